"""Refund mails: the buyer hears when money comes back. Rendered now, sent after commit (email_send)."""

from __future__ import annotations

from apps.core.emails import email_send
from apps.orders.models import Order
from apps.payments.models import Refund


def refund_succeeded_notify(*, refund: Refund, order: Order) -> None:
    """Tell the buyer of ``order`` that ``refund`` succeeded: its amount and, for a refund of
    lines, which units and whether shipping came back."""
    lines = list(refund.lines.select_related("line").order_by("id"))
    email_send(
        to=[order.buyer.email],
        template="refund_succeeded",
        context={"order": order, "refund": refund, "lines": lines, "buyer": order.buyer, "currency": order.currency},
    )
