"""Buyer returns: a request to send back delivered units of one store order, which its seller
approves or rejects and, once the goods are back, receives (refunding the returned lines)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TimeStampedModel


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    RECEIVED = "received", "Received"


# The statuses whose units are still on their way back to the seller: with the received ones (and
# the refunds) they are what a new return cannot ask for again.
OPEN_STATUSES = frozenset({ReturnStatus.REQUESTED, ReturnStatus.APPROVED})


class ReturnRequest(TimeStampedModel):
    """Units of one store order's delivered lines the buyer sends back (its ``lines``), why, and
    when each step happened. ``refund`` is the refund receiving it recorded."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="returns")
    store_order = models.ForeignKey("orders.StoreOrder", on_delete=models.PROTECT, related_name="returns")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(max_length=10, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED)
    reason = models.CharField(max_length=500)
    note = models.CharField(max_length=500, blank=True)  # the seller's, when it rejects
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    refund = models.OneToOneField(
        "payments.Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="return_request"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["order", "-created_at", "-id"], name="returns_order_recent"),
            models.Index(fields=["store_order", "status"], name="returns_store_order_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=ReturnStatus.RECEIVED, received_at__isnull=False) | ~Q(status=ReturnStatus.RECEIVED),
                name="returns_received_is_stamped",
            ),
        ]

    def __str__(self) -> str:
        return f"return {self.pk} of {self.order_id}/{self.store_order_id} ({self.status})"


class ReturnLine(models.Model):
    """``quantity`` units of an order line sent back by a return."""

    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["return_request", "line"], name="returns_line_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="returns_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.return_request_id}: {self.quantity} x line {self.line_id}"
