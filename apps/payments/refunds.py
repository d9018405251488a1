"""Refunds of a store order's lines (and its shipping), asked by its seller or staff.

``refund_lines`` records the refund under the order's lock (then the payments', then the
variants'): the units it gives back count at once (OrderLine.refunded_quantity), so two refunds
of the same line can never together exceed what was bought, and restocked units go back to the
variant once, when the refund is recorded. The caller sends it after commit (``refund_send``);
when the provider confirms, ``refund_apply`` posts it to this store order in the ledger; when it
fails for good, its units are refundable again (restocked units stay in stock: the goods are back).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from rest_framework.exceptions import ValidationError

from apps.accounts.models import User
from apps.core.money import money
from apps.orders.exceptions import InvalidTransition
from apps.orders.locks import lock_order
from apps.orders.models import OrderLine, OrderStatus, StoreOrder
from apps.orders.services import order_lines_refund, order_note
from apps.payments.exceptions import RefundExceeds
from apps.payments.locks import lock_payments_of_order
from apps.payments.models import Refund, RefundLine
from apps.payments.providers.base import RefundStatus
from apps.payments.services import CAPTURED_STATUSES, payment_refundable, refund_key_next

ZERO = Decimal("0.00")


def refund_lines(
    *,
    store_order: StoreOrder,
    lines: list[tuple[int, int]],
    shipping: bool,
    restock: bool,
    reason: str,
    actor: User | None,
) -> Refund:
    """Record a pending refund of ``lines`` ([(order line id, units)]) of ``store_order`` and, with
    ``shipping``, of what is left of its shipping; with ``restock`` the units go back to stock now.
    The amount is Σ unit_price * units (+ the shipping). Returns the Refund (``pending``): the
    caller sends it after commit.

    Raises, changing nothing: ValidationError (no lines and no shipping, a line twice, fewer
    than one unit; ``lines`` naming the ids that are not this store order's), InvalidTransition
    (the order is not paid), RefundExceeds (a line with fewer units left than asked, listed in
    ``lines`` as {id, requested, refundable}; the shipping refunded already; more than the
    store order or the payment has left, what refunds made outside Bazaar took included)."""
    quantities = _quantities(lines=lines, shipping=shipping)
    with transaction.atomic():
        order = lock_order(pk=store_order.order_id)
        payment = next((p for p in lock_payments_of_order(order_id=order.pk) if p.settles_order), None)
        if order.status == OrderStatus.PENDING_PAYMENT or payment is None:
            raise InvalidTransition.refused(status=order.status, change="be refunded: it is not paid")
        part = StoreOrder.objects.get(pk=store_order.pk)
        found = OrderLine.objects.filter(store_order_id=part.pk).in_bulk(list(quantities))
        _check_lines(quantities=quantities, found=found, number=order.number)
        items = money(sum((found[pk].unit_price * units for pk, units in quantities.items()), ZERO))
        items_left, shipping_left = _store_order_left(store_order=part)
        if shipping and shipping_left <= 0:
            raise RefundExceeds("The shipping of this store order is refunded already.")
        if items > items_left:
            raise RefundExceeds(
                f"Refunding {items} of items is more than the {items_left} this store order has left to refund.",
                extra={"refundable": str(items_left)},
            )
        shipping_amount = shipping_left if shipping else ZERO
        amount = money(items + shipping_amount)
        left = payment_refundable(payment=payment) if payment.status in CAPTURED_STATUSES else ZERO
        if amount > left:
            raise RefundExceeds(
                f"A refund of {amount} is more than the {left} the payment has left to refund.",
                extra={"refundable": str(left)},
            )
        order_lines_refund(lines=found, quantities=quantities, restock=restock)
        payment.order = order
        refund = Refund.objects.create(
            payment=payment,
            amount=amount,
            store_order=part,
            items_amount=items,
            shipping_amount=shipping_amount,
            idempotency_key=refund_key_next(payment=payment),
            reason=reason[:200],
            requested_by=actor,
        )
        RefundLine.objects.bulk_create(
            RefundLine(refund=refund, line_id=pk, quantity=units, restocked=restock)
            for pk, units in sorted(quantities.items())
        )
        what = f"{part.store_name}: refund of {amount} {payment.currency} asked"
        order_note(order=order, note=f"{what}: {reason}" if reason else what, actor=actor)
    return refund


def _quantities(*, lines: list[tuple[int, int]], shipping: bool) -> dict[int, int]:
    """{line id: units} from the request, or ValidationError."""
    if not lines and not shipping:
        raise ValidationError({"lines": ["Give the lines to refund, or shipping, or both."]})
    quantities: dict[int, int] = {}
    for pk, units in lines:
        if pk in quantities:
            raise ValidationError({"lines": [f"Line {pk} is listed twice."]})
        if units < 1:
            raise ValidationError({"lines": [f"Line {pk}: refund at least one unit."]})
        quantities[pk] = units
    return quantities


def _check_lines(*, quantities: dict[int, int], found: dict[int, OrderLine], number: str) -> None:
    unknown = sorted(pk for pk in quantities if pk not in found)
    if unknown:
        raise ValidationError(
            {"lines": [f"{pk} is not a line of this store's part of order {number}." for pk in unknown]}
        )
    short = [
        {"id": pk, "requested": units, "refundable": found[pk].quantity - found[pk].refunded_quantity}
        for pk, units in sorted(quantities.items())
        if units > found[pk].quantity - found[pk].refunded_quantity
    ]
    if short:
        raise RefundExceeds("Some lines have fewer units left to refund than asked.", extra={"lines": short})


def _store_order_left(*, store_order: StoreOrder) -> tuple[Decimal, Decimal]:
    """What the store order has left to refund, of its items and of its shipping: what refunds
    have not given back yet (Bazaar's, and those made outside, as the ledger split them) nor are
    giving back (its pending refunds)."""
    pending = Refund.objects.filter(store_order=store_order, status=RefundStatus.PENDING).aggregate(
        items=Sum("items_amount"), shipping=Sum("shipping_amount")
    )
    items = store_order.subtotal - store_order.refunded_items - (pending["items"] or ZERO)
    shipping = store_order.shipping - store_order.refunded_shipping - (pending["shipping"] or ZERO)
    return money(max(items, ZERO)), money(max(shipping, ZERO))
