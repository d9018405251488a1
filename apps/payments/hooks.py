"""What payments tell the layers above them. Imports run one way (payments never imports payouts),
so a higher app that must act on a payments event hands a function in from its AppConfig.ready()
and payments calls it, after the event's transaction commits."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

RefundPostedHandler = Callable[..., None]
_refund_posted: list[RefundPostedHandler] = []


def on_refund_posted(handler: RefundPostedHandler) -> RefundPostedHandler:
    """Register ``handler(order_id=...)``, called once a refund of that order is in the ledger
    (a line refund, a whole-order refund, one made outside Bazaar) and committed."""
    if handler not in _refund_posted:
        _refund_posted.append(handler)
    return handler


def refund_posted(*, order_id: int) -> None:
    """Inside the transaction that posted a refund: call the handlers after it commits (none if it
    rolls back). A handler's failure is logged, never undoes the refund (robust)."""
    for handler in _refund_posted:
        transaction.on_commit(lambda handler=handler: handler(order_id=order_id), robust=True)
