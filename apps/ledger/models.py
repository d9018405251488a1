"""The ledger: an append-only, double-entry record of every money event of the marketplace.

Each event (a payment captured, a sale split between sellers and the platform, a refund, a
transfer to a seller, a transfer reversal) writes two or more entries whose amounts sum to zero,
in the transaction that records the event, under a unique ``event_key``: a replayed event writes
nothing. Entries are never updated or deleted (the model, its queryset and a database trigger all
refuse); a correction is a new event. Balances are sums of entries.

Signs follow the money: an entry moves ``amount`` *into* its account (negative: out of it).
Accounts:
- ``buyer``: the buyers' side; a capture takes money out of it, a refund puts it back.
- ``unapplied``: money received and not yet assigned to sellers and the platform (a payment that
  did not pay its order, or more than the order's total), until it is refunded or settled.
- ``commission``: the platform's revenue.
- ``payable`` (per store): what the platform holds for a store, by store order.
- ``payouts`` (per store): what has been sent to the store's connected account, net of reversals.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Account(models.TextChoices):
    BUYER = "buyer", "Buyers"
    UNAPPLIED = "unapplied", "Unapplied receipts"
    COMMISSION = "commission", "Platform commission"
    PAYABLE = "payable", "Payable to the store"
    PAYOUTS = "payouts", "Paid out to the store"


STORE_ACCOUNTS = (Account.PAYABLE, Account.PAYOUTS)


class Kind(models.TextChoices):
    CAPTURE = "capture", "Payment captured"
    SALE = "sale", "Sale split between sellers and the platform"
    REFUND = "refund", "Refund"
    TRANSFER = "transfer", "Transfer to the seller"
    REVERSAL = "reversal", "Transfer reversal"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("ledger entries are append-only: post a correcting event instead")

    def delete(self):
        raise TypeError("ledger entries are append-only: post a correcting event instead")

    _raw_delete = delete


class LedgerEntry(models.Model):
    event_key = models.CharField(max_length=200)
    leg = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    account = models.CharField(max_length=10, choices=Account.choices)
    store = models.ForeignKey("accounts.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    store_order = models.ForeignKey(
        "orders.StoreOrder", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(fields=["event_key", "leg"], name="ledger_one_entry_per_event_leg"),
            models.CheckConstraint(
                condition=Q(account__in=STORE_ACCOUNTS, store__isnull=False) | ~Q(account__in=STORE_ACCOUNTS),
                name="ledger_store_accounts_name_a_store",
            ),
        ]
        indexes = [
            models.Index(fields=["store", "account", "-created_at", "-id"], name="ledger_store_account_recent"),
            models.Index(fields=["order"], name="ledger_entry_order"),
        ]

    def __str__(self) -> str:
        return f"{self.event_key}#{self.leg} {self.account} {self.amount}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("ledger entries are append-only: post a correcting event instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("ledger entries are append-only: post a correcting event instead")
