"""Named row locks of returns (one helper per lock).

A return is locked after its order (apps.orders.locks.lock_order) and before anything a refund
locks (the order's payments, then variants): order → return → payments → variants."""

from __future__ import annotations

from apps.returns.models import ReturnRequest


def lock_return(*, pk: int) -> ReturnRequest:
    """The return, locked and freshly read (with its store order): re-check its status after."""
    return ReturnRequest.objects.select_for_update(of=("self",)).select_related("store_order").get(pk=pk)
