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
    # The provider's charge behind a success (Stripe: the intent's latest_charge): the
    # source_transaction of the transfers that pay the sellers their share of it.
    charge_reference = models.CharField(max_length=255, blank=True)
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


class ConnectAccount(TimeStampedModel):
    """A store's payout account at the provider (Stripe: a Connect Express account), made by
    ``connect.connect_account_link`` and kept up to date from ``account.updated`` events."""

    class Status:
        NONE = "none"  # no row: the store has no account yet
        ONBOARDING = "onboarding"  # the seller has not finished the provider's form
        ENABLED = "enabled"  # payouts enabled: transfers may be sent
        RESTRICTED = "restricted"  # details submitted, but the provider does not allow payouts

    store = models.OneToOneField("accounts.Store", on_delete=models.PROTECT, related_name="payout_account")
    provider = models.CharField(max_length=20)
    reference = models.CharField(max_length=255, unique=True)
    details_submitted = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    # When the provider said what the row holds (the event's creation time): an older event,
    # arriving late, does not undo a newer one.
    state_as_of = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.reference} {self.status}"

    @property
    def status(self) -> str:
        if self.payouts_enabled:
            return self.Status.ENABLED
        return self.Status.RESTRICTED if self.details_submitted else self.Status.ONBOARDING


class SimulatedConnectAccount(models.Model):
    """A connected account in the simulated provider's books, under the caller's idempotency key."""

    key = models.CharField(max_length=300, unique=True)
    reference = models.CharField(max_length=64, unique=True)
    email = models.EmailField()
    country = models.CharField(max_length=2, blank=True)
    details_submitted = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.reference


class SimulatedAccountLink(models.Model):
    """An onboarding link of the simulated provider: a page of the app that finishes the account's
    onboarding when opened before ``expires_at``. Only the token's SHA-256 is kept."""

    token_hash = models.CharField(max_length=64, unique=True)
    account = models.ForeignKey(SimulatedConnectAccount, on_delete=models.CASCADE, related_name="links")
    return_url = models.URLField(max_length=500)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.account} until {self.expires_at:%Y-%m-%d %H:%M}"


class SimulatedTransfer(models.Model):
    """A transfer to a connected account in the simulated provider's books."""

    key = models.CharField(max_length=300, unique=True)
    reference = models.CharField(max_length=64, unique=True)
    destination = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    transfer_group = models.CharField(max_length=100, blank=True)
    source_transaction = models.CharField(max_length=64, blank=True, db_index=True)
    metadata = models.JSONField(default=dict, blank=True)
    amount_reversed = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0, amount_reversed__gte=0, amount_reversed__lte=models.F("amount")),
                name="payments_simulated_transfer_reversed_within_amount",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount} → {self.destination}"


class SimulatedTransferReversal(models.Model):
    """A reversal of a simulated transfer, under the caller's idempotency key."""

    key = models.CharField(max_length=300, unique=True)
    reference = models.CharField(max_length=64, unique=True)
    transfer = models.ForeignKey(SimulatedTransfer, on_delete=models.CASCADE, related_name="reversals")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.reference} {self.amount}"
