"""Transfers of a store order's seller net to the store's connected account, and their reversals.

A row is written (``pending``, no reference) before the provider is asked, under a unique
idempotency key made of the order number and the store's slug (never a database id: ids repeat
across databases sharing one provider account), so a retry, a lost answer or a second worker can
only ever repeat the same request. The ledger entries (``ledger_transfer``, ``ledger_reversal``)
are posted in the transaction that records the provider's success; these rows are the record of
what was asked and what the provider said, the ledger is the record of the money.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from apps.accounts.models import Store
from apps.core.models import TimeStampedModel


class TransferStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # claimed; not yet sent, or sent and its answer not recorded
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"  # refused by the provider: nothing moved; staff look into it


class Transfer(TimeStampedModel):
    """The one transfer of a store order's seller net (``payable``) to the store's account."""

    store_order = models.OneToOneField("orders.StoreOrder", on_delete=models.PROTECT, related_name="transfer")
    store = models.ForeignKey("accounts.Store", on_delete=models.PROTECT, related_name="transfers")
    provider = models.CharField(max_length=20)
    # What the provider is asked, fixed at the claim so that every retry repeats the same request:
    # the connected account, and the charge the money comes from (the settling payment's).
    destination = models.CharField(max_length=255)
    source_transaction = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=TransferStatus.choices, default=TransferStatus.PENDING)
    idempotency_key = models.CharField(max_length=255, unique=True)
    reference = models.CharField(max_length=255, blank=True, db_index=True)
    failure = models.CharField(max_length=500, blank=True)
    tries = models.PositiveSmallIntegerField(default=0)
    # While a worker is asking the provider: no other worker sends the row until then (a retry
    # with the key would be harmless, but a second call is never needed).
    sending_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payouts_transfer_amount_positive")]
        indexes = [models.Index(fields=["status", "created_at"], name="payouts_transfer_status")]

    def __str__(self) -> str:
        return f"{self.idempotency_key} {self.amount} {self.status}"

    @staticmethod
    def key_for(*, order_number: str, store_slug: str) -> str:
        return f"transfer-{order_number}-{store_slug}"


class TransferReversal(TimeStampedModel):
    """Money taken back from a store's account after a refund of a store order already paid out.
    Keys are ``<transfer key>-reversal-<n>``, a sequence per transfer."""

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="reversals")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=TransferStatus.choices, default=TransferStatus.PENDING)
    idempotency_key = models.CharField(max_length=255, unique=True)
    reference = models.CharField(max_length=255, blank=True)
    failure = models.CharField(max_length=500, blank=True)
    tries = models.PositiveSmallIntegerField(default=0)
    # While a worker is asking the provider: no other worker sends the row until then (a retry
    # with the key would be harmless, but a second call is never needed).
    sending_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payouts_reversal_amount_positive"),
            # One open reversal per transfer: the next is made once the previous one is answered.
            models.UniqueConstraint(
                fields=["transfer"], condition=Q(status="pending"), name="payouts_one_pending_reversal_per_transfer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} {self.amount} {self.status}"


class StoreBalance(Store):
    """Stores seen from the payouts desk: a read-only admin list of their balances."""

    class Meta:
        proxy = True
        verbose_name = "store balance"
