"""Named row locks of orders (one helper per lock).

Lock order across the project: the cart, then the order, then its payments, then their refunds;
variants (by primary key) come after the cart and after the order when one is held (cancel and
expiry take the order, then the variants they restock; checkout takes the cart, then variants,
and never locks an existing order), so no two paths wait on each other in a cycle. A row joined in
a lock query is read, not locked (``of=("self",)``).
Nothing holds a lock while it calls a payment provider."""

from __future__ import annotations

from apps.orders.models import Order


def lock_order(*, pk: int) -> Order:
    """The order, locked and freshly read: re-check its status after taking it."""
    return Order.objects.select_for_update().get(pk=pk)
