"""Order mails: confirmation to the buyer and a notice to each seller with only their lines when
an order is paid; a shipment notice to the buyer. Rendered now, sent after commit (email_send)."""

from __future__ import annotations

from itertools import groupby

from apps.core.emails import email_send
from apps.orders.models import Order, OrderLine


def order_paid_notify(*, order: Order) -> None:
    lines = list(order.lines.select_related("store__owner").order_by("store_id", "id"))
    email_send(
        to=[order.buyer.email],
        template="order_confirmation",
        context={"order": order, "lines": lines, "buyer": order.buyer},
    )
    for _, store_lines in groupby(lines, key=lambda line: line.store_id):
        own = list(store_lines)
        store = own[0].store
        email_send(
            to=[store.owner.email],
            template="seller_new_order",
            context={"order": order, "lines": own, "store": store, "address": order.shipping_address},
        )


def order_shipped_notify(*, order: Order, lines: list[OrderLine]) -> None:
    email_send(
        to=[order.buyer.email],
        template="order_shipped",
        context={"order": order, "lines": lines, "buyer": order.buyer},
    )
