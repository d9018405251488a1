"""Writes for orders: checkout, the state machine, cancellation, shipping, delivery, expiry.

Locks are always taken in one order (cart, then products by primary key, then the order) so
that concurrent checkouts and cancellations cannot deadlock. Stock moves only with conditional
``F()`` updates inside the transaction that records why it moved. Payment providers are called
only after commit (apps.payments.services).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import User
from apps.cart.models import Cart
from apps.catalog.cache import catalog_stock_changed
from apps.catalog.models import Product
from apps.core.exceptions import NotFound
from apps.core.money import money
from apps.orders.exceptions import EmptyCart, InvalidTransition, OutOfStock
from apps.orders.models import LineStatus, Order, OrderEvent, OrderLine, OrderStatus
from apps.orders.notifications import order_paid_notify, order_shipped_notify
from apps.orders.status import is_allowed


def order_place(*, buyer: User, shipping_address: dict[str, Any], idempotency_key: str | None = None) -> Order:
    """Turn the buyer's cart into a ``pending_payment`` order, taking stock for every line.

    All or nothing: raises EmptyCart or OutOfStock (listing each short product) and then nothing
    changes. With an ``idempotency_key``, a retry after a crash returns the order the first
    attempt made instead of a second one."""
    key = idempotency_key or ""
    if key:
        existing = Order.objects.filter(buyer=buyer, idempotency_key=key).first()
        if existing is not None:
            return existing
    try:
        return _order_place(buyer=buyer, shipping_address=shipping_address, idempotency_key=key)
    except IntegrityError:
        existing = Order.objects.filter(buyer=buyer, idempotency_key=key).first() if key else None
        if existing is None:
            raise
        return existing


@transaction.atomic
def _order_place(*, buyer: User, shipping_address: dict[str, Any], idempotency_key: str) -> Order:
    cart, _ = Cart.objects.get_or_create(user=buyer)
    Cart.objects.select_for_update().filter(pk=cart.pk).first()
    items = list(cart.items.order_by("product_id"))
    if not items:
        raise EmptyCart()
    products = (
        Product.objects.select_for_update(of=("self",))
        .select_related("store")
        .order_by("pk")
        .in_bulk([item.product_id for item in items])
    )
    short = []
    for item in items:
        product = products[item.product_id]
        available = product.stock if _is_buyable(product, buyer) else 0
        if available < item.quantity:
            short.append({"product": product.slug, "requested": item.quantity, "available": available})
    if short:
        raise OutOfStock(extra={"products": short})
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
    order = Order.objects.create(
        buyer=buyer,
        currency=currency,
        subtotal=subtotal,
        shipping=shipping,
        total=money(subtotal + shipping),
        shipping_address=shipping_address,
        idempotency_key=idempotency_key,
    )
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    cart.items.all().delete()
    OrderEvent.objects.create(order=order, from_status="", to_status=order.status, actor=buyer, note="checkout")
    return order


def _is_buyable(product: Product, buyer: User) -> bool:
    return product.status == Product.Status.ACTIVE and product.store.is_active and product.store.owner_id != buyer.pk


def order_transition(*, order: Order, to: str, actor: User | None = None, note: str = "") -> bool:
    """Move a locked ``order`` (the caller holds its row lock) to ``to`` and write an event.

    Re-applying the current status is a no-op (returns False); anything else outside the
    transition table raises InvalidTransition."""
    if order.status == to:
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
    return True


def order_lock(*, pk: int) -> Order:
    return Order.objects.select_for_update().get(pk=pk)


def _return_stock(*, order: Order) -> None:
    lines = list(order.lines.exclude(status=LineStatus.CANCELLED).order_by("product_id"))
    for line in lines:
        Product.objects.filter(pk=line.product_id).update(stock=F("stock") + line.quantity)
    if lines:  # returned stock may bring a sold-out product back into stock: lists change too
        catalog_stock_changed(slugs=[line.product_slug for line in lines], lists=True)
    order.lines.filter(pk__in=[line.pk for line in lines]).update(status=LineStatus.CANCELLED)


def order_cancel(*, order: Order, actor: User | None, note: str = "cancelled by the buyer") -> Order:
    """Cancel a pending or paid order (nothing shipped yet): stock returns, and after commit a paid
    order is refunded and a pending payment cancelled. Raises InvalidTransition otherwise."""
    with transaction.atomic():
        locked = order_lock(pk=order.pk)
        was_paid = locked.status == OrderStatus.PAID
        if locked.status == OrderStatus.CANCELLED:
            raise InvalidTransition("The order is already cancelled.", extra={"status": locked.status})
        order_transition(order=locked, to=OrderStatus.CANCELLED, actor=actor, note=note)
        _return_stock(order=locked)
        transaction.on_commit(lambda: _settle_cancelled_payment(order_id=locked.pk, was_paid=was_paid))
    return locked


def _settle_cancelled_payment(*, order_id: int, was_paid: bool) -> None:
    from apps.payments.services import payment_cancel_for_order, payment_refund_for_order

    if was_paid:
        payment_refund_for_order(order_id=order_id)
    else:
        payment_cancel_for_order(order_id=order_id)


@transaction.atomic
def order_mark_paid(*, order_id: int, amount: Decimal, currency: str, note: str) -> str:
    """Record a successful payment. Returns what happened: ``paid``, ``already_paid``,
    ``needs_review`` (amount or currency do not match: flagged, not paid) or ``refund`` (the order
    was cancelled or expired meanwhile: the caller refunds)."""
    order = order_lock(pk=order_id)
    if order.status == OrderStatus.CANCELLED:
        return "refund"
    if order.status != OrderStatus.PENDING_PAYMENT:
        return "already_paid"
    if money(amount) != order.total or currency.upper() != order.currency:
        order.needs_review = True
        order.save(update_fields=["needs_review", "updated_at"])
        OrderEvent.objects.create(
            order=order,
            from_status=order.status,
            to_status=order.status,
            note=f"payment of {amount} {currency} does not match {order.total} {order.currency}: needs review",
        )
        return "needs_review"
    order_transition(order=order, to=OrderStatus.PAID, note=note)
    order_paid_notify(order=order)
    return "paid"


def order_ship_lines(*, seller: User, number: str, carrier: str = "", tracking_number: str = "") -> Order:
    """Mark the seller's pending lines of a paid order shipped; the order becomes
    ``partially_shipped`` or ``shipped``. Another seller's order is NotFound; not paid yet or
    nothing left to ship is InvalidTransition."""
    with transaction.atomic():
        pk = Order.objects.filter(number=number, lines__store__owner=seller).values_list("pk", flat=True).first()
        if pk is None:
            raise NotFound("Order not found.")
        order = order_lock(pk=pk)
        if order.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED):
            raise InvalidTransition.refused(status=order.status, change="be shipped")
        pending = list(order.lines.filter(store__owner=seller, status=LineStatus.PENDING))
        shipped = OrderLine.objects.filter(pk__in=[line.pk for line in pending]).update(
            status=LineStatus.SHIPPED, carrier=carrier, tracking_number=tracking_number, shipped_at=timezone.now()
        )
        if not shipped:
            raise InvalidTransition("Your lines of this order are already shipped.", extra={"status": order.status})
        open_lines = order.lines.filter(status=LineStatus.PENDING).exists()
        target = OrderStatus.PARTIALLY_SHIPPED if open_lines else OrderStatus.SHIPPED
        note = f"shipped by {seller.store.name}" + (f" ({carrier} {tracking_number})".rstrip() if carrier else "")
        if not order_transition(order=order, to=target, actor=seller, note=note):
            OrderEvent.objects.create(order=order, from_status=order.status, to_status=target, actor=seller, note=note)
        for line in pending:
            line.status, line.carrier, line.tracking_number = LineStatus.SHIPPED, carrier, tracking_number
        order_shipped_notify(order=order, lines=pending)
    return order


@transaction.atomic
def order_confirm_delivery(*, order: Order, actor: User) -> Order:
    locked = order_lock(pk=order.pk)
    if locked.status != OrderStatus.SHIPPED:
        raise InvalidTransition(
            f"Only a shipped order can be confirmed delivered; this one is {locked.status.replace('_', ' ')}.",
            extra={"status": locked.status},
        )
    order_transition(order=locked, to=OrderStatus.DELIVERED, actor=actor, note="delivery confirmed by the buyer")
    locked.lines.filter(status=LineStatus.SHIPPED).update(status=LineStatus.DELIVERED)
    return locked


def orders_expire(*, now=None) -> list[str]:
    """Cancel every order unpaid for longer than ORDER_RESERVATION_MINUTES and return its stock.

    Each order is re-read under its lock, so one paid at the same moment is left alone; a payment
    that succeeds after the cancel is refunded (order_mark_paid answers ``refund``). Idempotent.
    Returns the expired order numbers."""
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.ORDER_RESERVATION_MINUTES)
    expired = []
    candidates: Iterable[int] = Order.objects.filter(
        status=OrderStatus.PENDING_PAYMENT, created_at__lt=cutoff
    ).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            order = order_lock(pk=pk)
            if order.status != OrderStatus.PENDING_PAYMENT:
                continue
            order_transition(order=order, to=OrderStatus.CANCELLED, note="reservation expired")
            _return_stock(order=order)
            transaction.on_commit(lambda pk=pk: _settle_cancelled_payment(order_id=pk, was_paid=False))
            expired.append(order.number)
    return expired
