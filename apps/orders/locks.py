"""Named row locks of orders (one helper per lock).

Lock order across the project: cart, then variants by primary key, then the order, then its
payments, then their refunds; a row joined in a lock query is read, not locked (``of=("self",)``).
Nothing holds a lock while it calls a payment provider."""

from __future__ import annotations

from apps.orders.models import Order


def lock_order(*, pk: int) -> Order:
    """The order, locked and freshly read: re-check its status after taking it."""
    return Order.objects.select_for_update().get(pk=pk)
