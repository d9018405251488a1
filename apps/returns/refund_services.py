"""Refunds of order lines through the API: record them (apps.payments.refunds), then send them."""

from __future__ import annotations

from apps.accounts.models import User
from apps.orders.models import StoreOrder
from apps.payments.models import Refund
from apps.payments.providers.budget import provider_budget
from apps.payments.refunds import refund_lines
from apps.payments.services import refund_send


def store_order_refund(
    *,
    store_order: StoreOrder,
    lines: list[tuple[int, int]],
    shipping: bool,
    restock: bool,
    reason: str,
    actor: User,
) -> Refund:
    """Refund ``lines`` ([(order line id, units)]) of ``store_order`` (and its shipping), as its
    seller or staff: the refund is recorded (its transaction committed), then sent to the
    provider, so call it outside any transaction (no row lock is held while the provider works).
    Returns the refund as the provider left it: ``succeeded``, ``pending`` (the provider is slow
    or down: the sweep sends it or asks again) or ``failed`` (refused; its units are refundable
    again). Raises what ``refund_lines`` raises, and then nothing changed."""
    refund = refund_lines(
        store_order=store_order, lines=lines, shipping=shipping, restock=restock, reason=reason, actor=actor
    )
    with provider_budget():
        return refund_send(refund=refund)
