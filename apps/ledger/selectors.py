"""Reading the ledger: a store's balance and entries, an order's sum."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone

from apps.accounts.models import Store
from apps.core.money import money
from apps.ledger.models import STORE_ACCOUNTS, Account, LedgerEntry
from apps.orders.models import StoreOrder

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class StoreOrderBalance:
    store_order_id: int
    payable: Decimal  # held for the store (negative: the store owes a refund it was already paid)
    transferred: Decimal  # sent to the store's account, net of reversals
    releasable: bool  # delivered PAYOUT_HOLD_DAYS ago, and its order not under review


@dataclass(frozen=True)
class Balance:
    currency: str
    pending: Decimal
    available: Decimal
    transferred: Decimal


def release_cutoff(now: datetime | None = None) -> datetime:
    """Store orders delivered at or before this moment can be paid out."""
    return (now or timezone.now()) - timedelta(days=settings.PAYOUT_HOLD_DAYS)


def store_order_balances(*, store: Store, now: datetime | None = None) -> list[StoreOrderBalance]:
    """Every store order of ``store`` with ledger entries, with its payable and transferred sums
    (one statement)."""
    rows = (
        LedgerEntry.objects.filter(store=store, account__in=STORE_ACCOUNTS)
        .values("store_order_id", "account")
        .annotate(total=Sum("amount"))
    )
    sums: dict[int, dict[str, Decimal]] = {}
    for row in rows:  # money(): SQLite sums decimals as floats (Django does not round aggregates back)
        sums.setdefault(row["store_order_id"], {})[row["account"]] = money(row["total"])
    if not sums:
        return []
    cutoff = release_cutoff(now)
    releasable = set(
        StoreOrder.objects.filter(
            pk__in=sums, delivered_at__isnull=False, delivered_at__lte=cutoff, order__needs_review=False
        ).values_list("pk", flat=True)
    )
    return [
        StoreOrderBalance(
            store_order_id=pk,
            payable=by_account.get(Account.PAYABLE, ZERO),
            transferred=by_account.get(Account.PAYOUTS, ZERO),
            releasable=pk in releasable,
        )
        for pk, by_account in sorted(sums.items())
    ]


def store_balance(*, store: Store, now: datetime | None = None) -> Balance:
    """``pending``: what the platform holds for the store and cannot pay out yet; ``available``:
    what it can (a negative payable, a refund after a transfer not yet reversed, counts against
    it); ``transferred``: sent to the store's account, net of reversals. Computed when read."""
    pending = available = transferred = ZERO
    for row in store_order_balances(store=store, now=now):
        transferred += row.transferred
        if row.releasable or row.payable < 0:
            available += row.payable
        else:
            pending += row.payable
    return Balance(currency=settings.DEFAULT_CURRENCY, pending=pending, available=available, transferred=transferred)


def store_entries(*, store: Store) -> QuerySet[LedgerEntry]:
    """The store's own entries (its payable and payouts accounts), newest first."""
    return (
        LedgerEntry.objects.filter(store=store, account__in=STORE_ACCOUNTS)
        .select_related("order")
        .order_by("-created_at", "-id")
    )


def order_ledger_sum(*, order_id: int) -> Decimal:
    return money(LedgerEntry.objects.filter(order_id=order_id).aggregate(total=Sum("amount"))["total"] or ZERO)
