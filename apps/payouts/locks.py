"""Named row locks of payouts (one helper per lock).

Lock order: the store, then the order (apps.orders.locks), then the transfer, then its reversals.
Nothing holds a lock while it calls the provider. These take FOR NO KEY UPDATE: the rows are
locked against each other's claims, not against inserts that merely refer to them (a ledger entry
naming the store checks its key with FOR KEY SHARE, which FOR UPDATE would block, and deadlock)."""

from __future__ import annotations

from apps.accounts.models import Store
from apps.payouts.models import Transfer, TransferReversal


def lock_store_for_payouts(*, pk: int) -> Store:
    """The store, locked: claims of its transfers are serialised on it, so two workers never
    both spend one available balance."""
    return Store.objects.select_for_update(no_key=True).get(pk=pk)


def lock_transfer(*, pk: int) -> Transfer:
    return Transfer.objects.select_for_update(of=("self",), no_key=True).select_related("store_order__order").get(pk=pk)


def lock_reversal(*, pk: int) -> TransferReversal:
    return (
        TransferReversal.objects.select_for_update(of=("self",), no_key=True)
        .select_related("transfer__store_order__order")
        .get(pk=pk)
    )
