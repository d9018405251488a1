"""The order state machine as data: the only allowed transitions (API.md), and what each status
does to the order's lines."""

from __future__ import annotations

from apps.orders.models import LineStatus as L
from apps.orders.models import OrderStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED}),
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}
FINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)

# The line statuses an order's new status moves, as {order status: {line status from: to}}. Shipping
# is per line (each seller ships their own, apps.orders.services.order_ship_lines); these follow the
# order as a whole.
LINE_CASCADE: dict[str, dict[str, str]] = {
    S.CANCELLED: {L.PENDING: L.CANCELLED},
    S.DELIVERED: {L.SHIPPED: L.DELIVERED},
}


def is_allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS[current]
