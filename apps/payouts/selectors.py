"""What a seller reads about its money: its balance, with its payout account's state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apps.accounts.models import Store
from apps.ledger.selectors import Balance, store_balance
from apps.payments.connect import connect_account_status


@dataclass(frozen=True)
class PayoutAccount:
    status: str  # "none", "onboarding", "enabled" or "restricted"
    payouts_enabled: bool


@dataclass(frozen=True)
class StoreMoney:
    balance: Balance
    account: PayoutAccount


def store_money(*, store: Store, now: datetime | None = None) -> StoreMoney:
    """The store's balance (computed when read: a store order becomes available PAYOUT_HOLD_DAYS
    after its delivery with no task run) and the state of its connected account."""
    status, payouts_enabled = connect_account_status(store=store)
    return StoreMoney(
        balance=store_balance(store=store, now=now),
        account=PayoutAccount(status=status, payouts_enabled=payouts_enabled),
    )
