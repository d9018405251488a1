"""Return mails: the seller hears of a return requested from its store. Rendered now, sent after
commit (email_send)."""

from __future__ import annotations

from apps.accounts.models import Store
from apps.core.emails import email_send
from apps.orders.models import OrderLine
from apps.returns.models import ReturnRequest


def return_requested_notify(*, request: ReturnRequest, store: Store, lines: list[tuple[OrderLine, int]]) -> None:
    """Mail the store's owner the return ``request`` of ``lines`` ([(order line, units)])."""
    email_send(
        to=[store.owner.email],
        template="seller_return_requested",
        context={"request": request, "order": request.order, "store": store, "lines": lines},
    )
