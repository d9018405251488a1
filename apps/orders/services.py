"""Writes for orders: placing one from the cart, the state machine, cancellation, shipping,
delivery, expiry.

Locks are always taken in one order (cart, then products by primary key, then the order) so
that concurrent checkouts and cancellations cannot deadlock. Stock moves only with conditional
``F()`` updates inside the transaction that records why it moved. This package never calls a
payment provider: apps.checkout does, after these transactions commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import User
from apps.cart.locks import lock_cart
from apps.catalog.cache import catalog_stock_changed
from apps.catalog.exceptions import OutOfStock
from apps.catalog.locks import lock_products_for_sale
from apps.catalog.models import Product
from apps.core.exceptions import IdempotencyConflict, NotFound
from apps.core.idempotency import TTL
from apps.core.money import money
from apps.orders.exceptions import AmountOutOfRange, EmptyCart, InvalidTransition, OrderUnderReview
from apps.orders.locks import lock_order
from apps.orders.models import LineStatus, Order, OrderEvent, OrderLine, OrderStatus
from apps.orders.notifications import order_paid_notify, order_shipped_notify
from apps.orders.status import LINE_CASCADE, is_allowed


@dataclass(frozen=True)
class Placed:
    """What ``order_place_once`` did: the order, and whether this call made it (False: an earlier
    request with the same Idempotency-Key and body made it, and this is its retry)."""

    order: Order
    created: bool


def order_place(*, buyer: User, shipping_address: dict[str, Any], idempotency_key: str | None = None) -> Order:
    """``order_place_once`` for callers that only need the order."""
    return order_place_once(buyer=buyer, shipping_address=shipping_address, idempotency_key=idempotency_key).order


def order_place_once(
    *,
    buyer: User,
    shipping_address: dict[str, Any],
    idempotency_key: str | None = None,
    request_hash: str = "",
    amount_limits: tuple[Decimal, Decimal] | None = None,
) -> Placed:
    """Turn the buyer's cart into a ``pending_payment`` order, taking stock for every line.

    All or nothing: raises EmptyCart, OutOfStock (listing each short product) or AmountOutOfRange
    (the total is outside ``amount_limits``, the amounts the payment provider can charge), and then
    nothing changes. With an ``idempotency_key``, a retry within its 24 hours and with the same
    ``request_hash`` finds the order the first request made (``created`` False); the same key
    with another request raises Conflict ``idempotency_conflict``; after 24 hours the key is free."""
    key = idempotency_key or ""
    if key:
        found = _order_for_key(buyer=buyer, key=key, request_hash=request_hash)
        if found is not None:
            return Placed(found, created=False)
    try:
        order = _order_place(
            buyer=buyer,
            shipping_address=shipping_address,
            idempotency_key=key,
            request_hash=request_hash,
            amount_limits=amount_limits,
        )
    except IntegrityError:
        found = _order_for_key(buyer=buyer, key=key, request_hash=request_hash) if key else None
        if found is None:
            raise
        return Placed(found, created=False)
    return Placed(order, created=True)


def _order_for_key(*, buyer: User, key: str, request_hash: str) -> Order | None:
    order = Order.objects.filter(buyer=buyer, idempotency_key=key, created_at__gte=timezone.now() - TTL).first()
    if order is not None and order.idempotency_hash and request_hash and order.idempotency_hash != request_hash:
        raise IdempotencyConflict()
    return order


@transaction.atomic
def _order_place(
    *,
    buyer: User,
    shipping_address: dict[str, Any],
    idempotency_key: str,
    request_hash: str,
    amount_limits: tuple[Decimal, Decimal] | None,
) -> Order:
    cart = lock_cart(user=buyer)
    items = list(cart.items.order_by("product_id"))
    if not items:
        raise EmptyCart()
    products = lock_products_for_sale(ids=[item.product_id for item in items])
    short = []
    for item in items:
        product = products[item.product_id]
        available = product.stock if _is_buyable(product, buyer) else 0
        if available < item.quantity:
            short.append({"product": product.slug, "requested": item.quantity, "available": available})
    if short:
        raise OutOfStock(extra={"products": short})

    currency = settings.DEFAULT_CURRENCY
    lines = [
        OrderLine(
            product=products[item.product_id],
            store=products[item.product_id].store,
            product_name=products[item.product_id].name,
            product_slug=products[item.product_id].slug,
            store_name=products[item.product_id].store.name,
            store_slug=products[item.product_id].store.slug,
            unit_price=products[item.product_id].price,
            quantity=item.quantity,
            line_total=money(products[item.product_id].price * item.quantity),
            currency=currency,
        )
        for item in items
    ]
    subtotal = money(sum((line.line_total for line in lines), Decimal("0")))
    shipping = money(settings.SHIPPING_FLAT_RATE * len({line.store.pk for line in lines}))
    total = money(subtotal + shipping)
    if amount_limits is not None:
        order_total_check(total=total, currency=currency, limits=amount_limits)

    # A list shows stock only as in_stock: it changes when a product's last units are taken.
    catalog_stock_changed(
        slugs=[products[item.product_id].slug for item in items],
        lists=any(products[item.product_id].stock <= item.quantity for item in items),
    )
    for item in items:
        taken = Product.objects.filter(
            pk=item.product_id, stock__gte=item.quantity, status=Product.Status.ACTIVE, store__is_active=True
        ).update(stock=F("stock") - item.quantity)
        if taken != 1:  # only possible without row locks (SQLite): the conditional update still holds
            product = products[item.product_id]
            raise OutOfStock(
                extra={"products": [{"product": product.slug, "requested": item.quantity, "available": 0}]}
            )
    if idempotency_key:  # the key's 24 hours are over for any older order holding it: it is free again
        Order.objects.filter(buyer=buyer, idempotency_key=idempotency_key, created_at__lt=timezone.now() - TTL).update(
            idempotency_key="", idempotency_hash=""
        )
    order = Order.objects.create(
        buyer=buyer,
        currency=currency,
        subtotal=subtotal,
        shipping=shipping,
        total=total,
        shipping_address=shipping_address,
        idempotency_key=idempotency_key,
        idempotency_hash=request_hash if idempotency_key else "",
    )
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    cart.items.all().delete()
    order_transition(order=order, to=order.status, actor=buyer, note="checkout", created=True)
    return order


def order_total_check(*, total: Decimal, currency: str, limits: tuple[Decimal, Decimal]) -> None:
    """Raises AmountOutOfRange for a total outside ``limits`` (what the payment provider can charge)."""
    low, high = limits
    if not low <= total <= high:
        raise AmountOutOfRange.for_total(total=total, currency=currency, limits=limits)


def _is_buyable(product: Product, buyer: User) -> bool:
    return product.status == Product.Status.ACTIVE and product.store.is_active and product.store.owner_id != buyer.pk


def order_transition(
    *,
    order: Order,
    to: str,
    actor: User | None = None,
    note: str = "",
    record_repeat: bool = False,
    created: bool = False,
    requested: bool = False,
) -> bool:
    """The one writer of order status and order events. Moves a locked ``order`` (the caller holds
    its row lock) to ``to``, moves its lines as LINE_CASCADE says, and writes an event.

    Re-applying the current status is a no-op returning False (a webhook retry), unless
    ``record_repeat`` (the event is still worth writing: a second seller ships, a payment is
    flagged); anything outside the transition table raises InvalidTransition, and so does a repeat
    when the change was ``requested`` through the API (cancel a cancelled order: 409, not a no-op).
    ``created``: the order was just made and this is its first event (from nothing to its status)."""
    if created:
        OrderEvent.objects.create(order=order, from_status="", to_status=to, actor=actor, note=note[:500])
        return True
    if order.status == to and requested:
        raise InvalidTransition.refused(status=order.status, change=f"become {to.replace('_', ' ')} again")
    if order.status == to:
        if record_repeat:
            OrderEvent.objects.create(order=order, from_status=to, to_status=to, actor=actor, note=note[:500])
        return False
    if not is_allowed(order.status, to):
        raise InvalidTransition.refused(status=order.status, change=f"become {to.replace('_', ' ')}")
    OrderEvent.objects.create(order=order, from_status=order.status, to_status=to, actor=actor, note=note[:500])
    order.status = to
    fields = ["status", "updated_at"]
    if to == OrderStatus.PAID:
        order.paid_at = timezone.now()
        fields.append("paid_at")
    elif to == OrderStatus.CANCELLED:
        order.cancelled_at = timezone.now()
        fields.append("cancelled_at")
    order.save(update_fields=fields)
    for line_from, line_to in LINE_CASCADE.get(to, {}).items():
        order.lines.filter(status=line_from).update(status=line_to)
    return True


def order_note(*, order: Order, note: str, actor: User | None = None) -> None:
    """An event that changes no status (a flagged payment, a refund, a dispute), on a locked order."""
    order_transition(order=order, to=order.status, actor=actor, note=note, record_repeat=True)


def _return_stock(*, order: Order) -> None:
    """Put back the stock of the order's lines still pending (call before the cancel cascade)."""
    lines = list(order.lines.filter(status=LineStatus.PENDING).order_by("product_id"))
    for line in lines:
        Product.objects.filter(pk=line.product_id).update(stock=F("stock") + line.quantity)
    if lines:  # returned stock may bring a sold-out product back into stock: lists change too
        catalog_stock_changed(slugs=[line.product_slug for line in lines], lists=True)


def order_cancel(*, order: Order, actor: User | None, note: str = "cancelled by the buyer") -> Order:
    """Cancel a pending or paid order (nothing shipped yet), returning its stock, inside the
    caller's transaction (apps.checkout settles its payments in the same one). Returns the locked
    order. Raises InvalidTransition otherwise."""
    with transaction.atomic():
        locked = lock_order(pk=order.pk)
        _return_stock(order=locked)  # rolled back with the rest if the transition is refused
        order_transition(order=locked, to=OrderStatus.CANCELLED, actor=actor, note=note, requested=True)
    return locked


@transaction.atomic
def order_mark_paid(*, order_id: int, amount: Decimal, currency: str, note: str) -> str:
    """Record a successful payment. Returns what happened: ``paid``, ``already_paid``,
    ``needs_review`` (amount or currency do not match: flagged, not paid) or ``refund`` (the order
    was cancelled or expired meanwhile: the caller refunds)."""
    order = lock_order(pk=order_id)
    if order.status == OrderStatus.CANCELLED:
        return "refund"
    if order.status != OrderStatus.PENDING_PAYMENT:
        return "already_paid"
    if money(amount) != order.total or currency.upper() != order.currency:
        order_flag_for_review(
            order=order, note=f"payment of {amount} {currency} does not match {order.total} {order.currency}"
        )
        return "needs_review"
    order_transition(order=order, to=OrderStatus.PAID, note=note)
    order_paid_notify(order=order)
    return "paid"


def order_flag_for_review(*, order: Order, note: str, actor: User | None = None) -> None:
    """Flag a locked order ``needs_review`` (staff settle it; sellers cannot ship it meanwhile)."""
    if not order.needs_review:
        order.needs_review = True
        order.save(update_fields=["needs_review", "updated_at"])
    order_note(order=order, note=f"{note}: needs review", actor=actor)


def order_review_close(*, order: Order, note: str, actor: User) -> None:
    """Clear a locked order's ``needs_review`` flag (staff settled it), saying how in its events."""
    if order.needs_review:
        order.needs_review = False
        order.save(update_fields=["needs_review", "updated_at"])
        order_note(order=order, note=f"review closed: {note}", actor=actor)


def order_ship_lines(*, seller: User, number: str, carrier: str = "", tracking_number: str = "") -> Order:
    """Mark the seller's pending lines of a paid order shipped; the order becomes
    ``partially_shipped`` or ``shipped``. Another seller's order is NotFound; not paid yet or
    nothing left to ship is InvalidTransition."""
    with transaction.atomic():
        pk = Order.objects.filter(number=number, lines__store__owner=seller).values_list("pk", flat=True).first()
        if pk is None:
            raise NotFound("Order not found.")
        order = lock_order(pk=pk)
        if order.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED):
            raise InvalidTransition.refused(status=order.status, change="be shipped")
        if order.needs_review:
            raise OrderUnderReview()
        pending = list(order.lines.filter(store__owner=seller, status=LineStatus.PENDING))
        shipped = OrderLine.objects.filter(pk__in=[line.pk for line in pending]).update(
            status=LineStatus.SHIPPED, carrier=carrier, tracking_number=tracking_number, shipped_at=timezone.now()
        )
        if not shipped:
            raise InvalidTransition("Your lines of this order are already shipped.", extra={"status": order.status})
        open_lines = order.lines.filter(status=LineStatus.PENDING).exists()
        target = OrderStatus.PARTIALLY_SHIPPED if open_lines else OrderStatus.SHIPPED
        note = f"shipped by {seller.store.name}" + (f" ({carrier} {tracking_number})".rstrip() if carrier else "")
        order_transition(order=order, to=target, actor=seller, note=note, record_repeat=True)
        for line in pending:
            line.status, line.carrier, line.tracking_number = LineStatus.SHIPPED, carrier, tracking_number
        order_shipped_notify(order=order, lines=pending)
    return order


@transaction.atomic
def order_confirm_delivery(*, order: Order, actor: User) -> Order:
    locked = lock_order(pk=order.pk)
    order_transition(
        order=locked, to=OrderStatus.DELIVERED, actor=actor, note="delivery confirmed by the buyer", requested=True
    )
    return locked


def orders_expire(*, now=None) -> list[Order]:
    """Cancel every order unpaid for longer than ORDER_RESERVATION_MINUTES and return its stock.

    Each order is re-read under its lock, so one paid at the same moment is left alone. An order
    flagged ``needs_review`` is never expired: a payment of it moved money, and staff settle it.
    Idempotent. Returns the expired orders (apps.checkout cancels their payment attempts)."""
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.ORDER_RESERVATION_MINUTES)
    expired = []
    candidates: Iterable[int] = Order.objects.filter(
        status=OrderStatus.PENDING_PAYMENT, needs_review=False, created_at__lt=cutoff
    ).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            order = lock_order(pk=pk)
            if order.status != OrderStatus.PENDING_PAYMENT or order.needs_review:
                continue
            _return_stock(order=order)
            order_transition(order=order, to=OrderStatus.CANCELLED, note="reservation expired")
            expired.append(order)
    return expired
