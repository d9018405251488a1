"""The order state machine as data: the only allowed transitions (API.md), and what each status
does to the order's lines and store orders."""

from __future__ import annotations

from apps.orders.models import LineStatus as L
from apps.orders.models import OrderStatus as S
from apps.orders.models import StoreOrderStatus as SO

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED}),
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}
# Moves allowed only when every store order of the order was refunded in full (and so is
# cancelled): goods shipped or delivered came back, or the sellers wrote them off.
FULL_REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PAID: frozenset({S.CANCELLED}),
    S.PARTIALLY_SHIPPED: frozenset({S.CANCELLED}),
    S.SHIPPED: frozenset({S.CANCELLED}),
    S.DELIVERED: frozenset({S.CANCELLED}),
}
FINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)

# The line statuses an order's new status moves, as {order status: {line status from: to}}. Shipping
# is per store order (each seller ships their own, apps.orders.services.order_ship_lines); these
# follow the order as a whole.
LINE_CASCADE: dict[str, dict[str, str]] = {
    S.CANCELLED: {L.PENDING: L.CANCELLED},
    S.DELIVERED: {L.SHIPPED: L.DELIVERED},
}

# The same for the order's store orders, and the timestamp a store order's new status stamps.
STORE_ORDER_CASCADE: dict[str, dict[str, str]] = {
    S.CANCELLED: {SO.PENDING: SO.CANCELLED},
    S.DELIVERED: {SO.SHIPPED: SO.DELIVERED},
}
STORE_ORDER_STAMPS: dict[str, str] = {
    SO.SHIPPED: "shipped_at",
    SO.DELIVERED: "delivered_at",
}


def is_allowed(current: str, target: str, *, full_refund: bool = False) -> bool:
    return target in TRANSITIONS[current] or (full_refund and target in FULL_REFUND_TRANSITIONS.get(current, ()))
