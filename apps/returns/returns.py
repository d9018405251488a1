"""Buyers' returns (API.md, Round 2, "Refunds and returns").

A buyer asks to send back delivered units of **one store order** (lines of several stores → 400
naming the others: one return per store, since each store decides on its own), within
RETURN_WINDOW_DAYS of that store order's delivery. Its seller moves it through STATUS_TRANSITIONS;
receiving it refunds the returned lines (never the shipping) through
apps.payments.refunds.refund_lines in the same transaction, and the refund is sent to the provider
after commit. Every change runs under the order's lock (then the return's), so concurrent
requests of the same order are serialised and their units never add up past what was delivered.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from apps.accounts.models import User
from apps.core.exceptions import NotFound
from apps.orders.exceptions import InvalidTransition
from apps.orders.locks import lock_order
from apps.orders.models import Order, OrderLine
from apps.orders.services import order_note
from apps.payments.models import Refund
from apps.payments.providers.budget import provider_budget
from apps.payments.refunds import refund_lines
from apps.payments.services import refund_send
from apps.returns.exceptions import ReturnExceeds, ReturnNotDelivered, ReturnWindowClosed
from apps.returns.locks import lock_return
from apps.returns.models import OPEN_STATUSES, ReturnLine, ReturnRequest, ReturnStatus
from apps.returns.notifications import return_requested_notify

S = ReturnStatus
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.RECEIVED}),
    S.REJECTED: frozenset(),
    S.RECEIVED: frozenset(),
}
STAMPS: dict[str, str] = {S.APPROVED: "approved_at", S.REJECTED: "rejected_at", S.RECEIVED: "received_at"}


def return_request(*, buyer: User, number: str, lines: list[tuple[int, int]], reason: str) -> ReturnRequest:
    """Ask to return ``lines`` ([(order line id, units)]) of the buyer's order ``number``; the
    seller of their store order is mailed and the order's events note it. Returns the
    ``requested`` return.

    Raises, changing nothing: NotFound (not the buyer's order); ValidationError (a line twice,
    fewer than one unit; ``lines`` naming ids not of this order, or of a second store);
    ReturnNotDelivered (the store order is not delivered); ReturnWindowClosed (delivered more than
    RETURN_WINDOW_DAYS ago); ReturnExceeds (a line with fewer units left than asked, listed as
    {id, requested, returnable}: its units minus those of open returns and the larger of its
    refunded units and those of received returns, return_units_held)."""
    quantities = _quantities(lines=lines)
    order_id = Order.objects.filter(buyer=buyer, number=number).values_list("pk", flat=True).first()
    if order_id is None:
        raise NotFound("Order not found.")
    with transaction.atomic():
        order = lock_order(pk=order_id)
        found = (
            OrderLine.objects.filter(order_id=order.pk)
            .select_related("store_order__store__owner")
            .in_bulk(list(quantities))
        )
        store_order = _one_store_order(quantities=quantities, found=found, number=number)
        _check_window(store_order=store_order)
        _check_returnable(quantities=quantities, found=found)
        request = ReturnRequest.objects.create(order=order, store_order=store_order, buyer=buyer, reason=reason[:500])
        ReturnLine.objects.bulk_create(
            ReturnLine(return_request=request, line_id=pk, quantity=units) for pk, units in sorted(quantities.items())
        )
        order_note(order=order, note=f"return {request.pk} requested from {store_order.store_name}: {reason}"[:500])
        returned = [(found[pk], units) for pk, units in sorted(quantities.items())]
        return_requested_notify(request=request, store=store_order.store, lines=returned)
    return request


def _quantities(*, lines: list[tuple[int, int]]) -> dict[int, int]:
    """{line id: units} from the request, or ValidationError."""
    if not lines:
        raise ValidationError({"lines": ["Give the lines to return."]})
    quantities: dict[int, int] = {}
    for pk, units in lines:
        if pk in quantities:
            raise ValidationError({"lines": [f"Line {pk} is listed twice."]})
        if units < 1:
            raise ValidationError({"lines": [f"Line {pk}: return at least one unit."]})
        quantities[pk] = units
    return quantities


def _one_store_order(*, quantities: dict[int, int], found: dict[int, OrderLine], number: str):
    unknown = sorted(pk for pk in quantities if pk not in found)
    if unknown:
        raise ValidationError({"lines": [f"{pk} is not a line of order {number}." for pk in unknown]})
    first = found[min(quantities)]
    others = sorted(pk for pk in quantities if found[pk].store_order_id != first.store_order_id)
    if others:
        raise ValidationError(
            {
                "lines": [
                    f"{pk} is from another store than line {first.pk} ({first.store_name}): ask one return per store."
                    for pk in others
                ]
            }
        )
    return first.store_order


def _check_window(*, store_order) -> None:
    if store_order.delivered_at is None:
        raise ReturnNotDelivered(extra={"status": store_order.status})
    closes = store_order.delivered_at + timedelta(days=settings.RETURN_WINDOW_DAYS)
    if timezone.now() > closes:
        raise ReturnWindowClosed(
            f"Returns of this delivery closed on {closes.isoformat()}, {settings.RETURN_WINDOW_DAYS} days after it.",
            extra={"delivered_at": store_order.delivered_at.isoformat(), "closed_at": closes.isoformat()},
        )


def _check_returnable(*, quantities: dict[int, int], found: dict[int, OrderLine]) -> None:
    open_units, received_units = return_units_held(line_ids=list(quantities))
    short = []
    for pk, units in sorted(quantities.items()):
        line = found[pk]
        returnable = max(line.quantity - open_units[pk] - max(line.refunded_quantity, received_units[pk]), 0)
        if units > returnable:
            short.append({"id": pk, "requested": units, "returnable": returnable})
    if short:
        raise ReturnExceeds("Some lines have fewer units left to return than asked.", extra={"lines": short})


def return_units_held(*, line_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """({line id: units of open returns}, {line id: units of received returns}).

    A line has left to return its units minus those of open returns (not refunded yet) minus the
    larger of its refunded units and its received returns' units: a received return's refund
    counts in OrderLine.refunded_quantity while it is pending or succeeded, and its units stay
    taken when that refund failed (the goods came back) or was asked again by staff as a new
    refund, without being counted twice."""
    rows = (
        ReturnLine.objects.filter(line_id__in=line_ids, return_request__status__in=[*OPEN_STATUSES, S.RECEIVED])
        .values("line_id", "return_request__status")
        .annotate(units=Sum("quantity"))
        .values_list("line_id", "return_request__status", "units")
    )
    open_units: dict[int, int] = defaultdict(int)
    received_units: dict[int, int] = defaultdict(int)
    for line_id, status, units in rows:
        (received_units if status == S.RECEIVED else open_units)[line_id] += units
    return open_units, received_units


def return_approve(*, seller: User, return_id: int) -> ReturnRequest:
    """The seller agrees to take the goods back: ``requested`` → ``approved``. Raises NotFound
    (not this seller's return), InvalidTransition (from any other status)."""
    return _transition(seller=seller, return_id=return_id, to=S.APPROVED)


def return_reject(*, seller: User, return_id: int, note: str) -> ReturnRequest:
    """The seller refuses, saying why (``note``): ``requested`` → ``rejected``. Raises as
    ``return_approve``."""
    return _transition(seller=seller, return_id=return_id, to=S.REJECTED, note=note)


def return_receive(*, seller: User, return_id: int, restock: bool) -> ReturnRequest:
    """The goods are back: ``approved`` → ``received``, and in the same transaction a refund of the
    returned lines (not the shipping) is recorded, their units going back to stock once with
    ``restock``; the refund is sent to the provider after commit. Raises as ``return_approve``,
    and what refund_lines raises (RefundExceeds: the seller refunded those units meanwhile);
    then nothing changed. The returned return's ``refund`` is as recorded (``pending``)."""
    return _transition(seller=seller, return_id=return_id, to=S.RECEIVED, restock=restock)


def _transition(
    *,
    seller: User,
    return_id: int,
    to: str,
    note: str = "",
    restock: bool = False,
) -> ReturnRequest:
    store_id = seller.store.pk if hasattr(seller, "store") else None
    order_id = (
        ReturnRequest.objects.filter(pk=return_id, store_order__store_id=store_id)
        .values_list("order_id", flat=True)
        .first()
    )
    if order_id is None:
        raise NotFound("Return not found.")
    with transaction.atomic():
        order = lock_order(pk=order_id)
        request = lock_return(pk=return_id)
        if to not in STATUS_TRANSITIONS[request.status]:
            raise InvalidTransition(
                f"A return that is {request.status} cannot become {to}.", extra={"status": request.status}
            )
        fields = ["status", STAMPS[to], "updated_at"]
        if to == S.REJECTED:
            request.note = note[:500]
            fields.append("note")
        if to == S.RECEIVED:
            refund = refund_lines(
                store_order=request.store_order,
                lines=list(request.lines.values_list("line_id", "quantity")),
                shipping=False,
                restock=restock,
                reason=f"return {request.pk}: {request.reason}",
                actor=seller,
            )
            request.refund = refund
            fields.append("refund")
            transaction.on_commit(lambda: _send(refund=refund))
        request.status = to
        setattr(request, STAMPS[to], timezone.now())
        request.save(update_fields=fields)
        what = f"return {request.pk} {to} by {request.store_order.store_name}"
        order_note(order=order, note=f"{what}: {note}" if note else what, actor=seller)
    return request


def _send(*, refund: Refund) -> Refund:
    with provider_budget():
        return refund_send(refund=refund)
