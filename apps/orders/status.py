"""The order state machine: the only allowed transitions (API.md), as data."""

from __future__ import annotations

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


def is_allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS[current]
