from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TimeStampedModel
from apps.payments.providers.base import PaymentStatus, RefundStatus


class Payment(TimeStampedModel):
    """One attempt to pay an order through a provider; the order's ``payment`` is its latest."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=20)
    reference = models.CharField(max_length=255, blank=True, db_index=True)
    attempt = models.PositiveSmallIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=PaymentStatus.CHOICES, default=PaymentStatus.PENDING)
    failure_code = models.CharField(max_length=64, blank=True)
    client_secret = models.CharField(max_length=255, blank=True)
    refund_reference = models.CharField(max_length=255, blank=True)
    response = models.JSONField(default=dict, blank=True)
    # What the provider actually took (it may differ from ``amount``: such a payment needs review),
    # and what has come back to the buyer since (refunds that succeeded, Bazaar's or made outside).
    amount_received = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    amount_refunded = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # True for the one attempt whose success paid the order; any other success is a charge to refund.
    settles_order = models.BooleanField(default=False)

    class Meta:
        ordering = ["-attempt"]
        constraints = [
            models.UniqueConstraint(fields=["order", "attempt"], name="payments_one_row_per_attempt"),
            models.UniqueConstraint(
                fields=["order"], condition=Q(settles_order=True), name="payments_one_settling_payment_per_order"
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0)
                & (Q(amount_received__isnull=True) | Q(amount_refunded__lte=models.F("amount_received"))),
                name="payments_refunded_within_received",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.attempt} {self.status}"


class Refund(TimeStampedModel):
    """Money going back to the buyer from one payment. Recorded (``pending``, no reference) before
    the provider is asked, so a crash or a provider error never loses it: the sweep sends what is
    still unsent and asks about what the provider left pending. ``origin`` ``provider`` is a refund
    made outside Bazaar (the provider's dashboard), recorded from its webhook."""

    class Origin:
        BAZAAR = "bazaar"
        PROVIDER = "provider"
        CHOICES = [(BAZAAR, "Bazaar"), (PROVIDER, "Made at the provider")]

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=20, choices=RefundStatus.CHOICES, default=RefundStatus.PENDING)
    origin = models.CharField(max_length=20, choices=Origin.CHOICES, default=Origin.BAZAAR)
    # The key every call about this refund carries: order number, attempt and a sequence, never a
    # database id (ids repeat across databases sharing one provider account).
    idempotency_key = models.CharField(max_length=255, unique=True)
    reference = models.CharField(max_length=255, blank=True, db_index=True)
    reason = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    failure = models.CharField(max_length=500, blank=True)
    tries = models.PositiveSmallIntegerField(default=0)
    # A refund of one store order's lines and shipping (apps.payments.refunds): what it gives back
    # of each (``amount`` is their sum), posted to that store order in the ledger. Null: a refund of
    # the whole payment (a cancelled order, a second charge, one made outside Bazaar), split over
    # the store orders.
    store_order = models.ForeignKey(
        "orders.StoreOrder", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    items_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(items_amount__gte=0, shipping_amount__gte=0), name="payments_refund_parts_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="payments_refund_status")]

    def __str__(self) -> str:
        return f"{self.idempotency_key} {self.amount} {self.status}"


class RefundLine(models.Model):
    """``quantity`` units of an order line given back by a refund; ``restocked`` when they went back
    to the variant's stock (once, when the refund was recorded)."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="refund_lines")
    quantity = models.PositiveSmallIntegerField()
    restocked = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["refund", "line"], name="payments_refund_line_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="payments_refund_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.refund_id}: {self.quantity} x line {self.line_id}"


class SimulatedPayment(TimeStampedModel):
    """The simulated provider's own books: what a remote provider would keep on its side."""

    reference = models.CharField(max_length=64, unique=True)
    start_key = models.CharField(max_length=300, unique=True)
    order_reference = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=PaymentStatus.CHOICES)
    failure_code = models.CharField(max_length=64, blank=True)
    refund_reference = models.CharField(max_length=64, blank=True)
    amount_refunded = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    def __str__(self) -> str:
        return f"{self.reference} {self.status}"


class SimulatedRefund(models.Model):
    """A refund in the simulated provider's books, under the caller's idempotency key."""

    key = models.CharField(max_length=300, unique=True)
    reference = models.CharField(max_length=64, unique=True)
    payment_reference = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.reference} {self.amount}"


class WebhookEvent(models.Model):
    """A provider's webhook event, stored under its unique id so each is processed once."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payment_reference = models.CharField(max_length=255, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
