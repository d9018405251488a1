"""Order mails: confirmation to the buyer and a notice to each seller with only their lines when
an order is paid; a shipment notice to the buyer.

The paid mails are rendered out of the paying transaction: ``order_paid_notify`` queues the
``orders.paid_mails`` task once that transaction commits (a worker renders and sends them when
there is a broker; without one they are rendered inline right after the commit, still in the
request). Nothing is queued on rollback. The shipment mail is rendered now and sent after commit."""

from __future__ import annotations

from itertools import groupby

from apps.core.emails import email_send
from apps.core.tasks import enqueue
from apps.orders.models import Order, OrderLine


def order_paid_notify(*, order: Order) -> None:
    """Queue the paid order's mails for when the current transaction commits."""
    from apps.orders.tasks import order_paid_mails  # the task module imports this one

    enqueue(order_paid_mails, order_id=order.pk)


def order_paid_mails_send(*, order_id: int) -> int:
    """Render the paid order's mails (the buyer's, one per seller with their own lines) and queue
    their delivery; returns how many."""
    order = Order.objects.select_related("buyer").get(pk=order_id)
    lines = list(order.lines.select_related("store__owner").order_by("store_id", "id"))
    email_send(
        to=[order.buyer.email],
        template="order_confirmation",
        context={"order": order, "lines": lines, "buyer": order.buyer},
    )
    sent = 1
    for _, store_lines in groupby(lines, key=lambda line: line.store_id):
        own = list(store_lines)
        store = own[0].store
        email_send(
            to=[store.owner.email],
            template="seller_new_order",
            context={"order": order, "lines": own, "store": store, "address": order.shipping_address},
        )
        sent += 1
    return sent


def order_shipped_notify(*, order: Order, lines: list[OrderLine]) -> None:
    email_send(
        to=[order.buyer.email],
        template="order_shipped",
        context={"order": order, "lines": lines, "buyer": order.buyer},
    )
