from django.db import models

from apps.core.models import TimeStampedModel
from apps.payments.providers.base import PaymentStatus


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

    class Meta:
        ordering = ["-attempt"]
        constraints = [models.UniqueConstraint(fields=["order", "attempt"], name="payments_one_row_per_attempt")]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.attempt} {self.status}"


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

    def __str__(self) -> str:
        return f"{self.reference} {self.status}"


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
