"""Writes for orders: placing one from the cart, the state machine, cancellation, shipping,
delivery, expiry.

Locks are always taken in one order (apps/orders/locks.py: cart, order, variants by primary key)
so that concurrent checkouts and cancellations cannot deadlock. Stock moves only with conditional
``F()`` updates inside the transaction that records why it moved. This package never calls a
payment provider: apps.checkout does, after these transactions commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from apps.accounts.models import Store, User
from apps.accounts.selectors import store_commission_rate
from apps.cart.locks import lock_cart
from apps.catalog.cache import catalog_stock_changed
from apps.catalog.exceptions import OutOfStock
from apps.catalog.locks import lock_variants
from apps.catalog.models import Product, Variant
from apps.catalog.stock import products_refresh
from apps.core.exceptions import IdempotencyConflict, NotFound
from apps.core.idempotency import TTL
from apps.core.money import money
from apps.orders.exceptions import AmountOutOfRange, EmptyCart, InvalidTransition, NoShippingRate, OrderUnderReview
from apps.orders.locks import lock_order
from apps.orders.models import LineStatus, Order, OrderEvent, OrderLine, OrderStatus, StoreOrder, StoreOrderStatus
from apps.orders.notifications import order_paid_notify, order_shipped_notify
from apps.orders.status import LINE_CASCADE, STORE_ORDER_CASCADE, STORE_ORDER_STAMPS, is_allowed
from apps.shipping.selectors import ShippingOption, shipping_options


@dataclass(frozen=True)
class Placed:
    """What ``order_place_once`` did: the order, and whether this call made it (False: an earlier
    request with the same Idempotency-Key and body made it, and this is its retry)."""

    order: Order
    created: bool


def order_place(
    *,
    buyer: User,
    shipping_address: dict[str, Any],
    idempotency_key: str | None = None,
    shipping_rates: Mapping[str, int | None] | None = None,
) -> Order:
    """``order_place_once`` for callers that only need the order."""
    return order_place_once(
        buyer=buyer, shipping_address=shipping_address, idempotency_key=idempotency_key, shipping_rates=shipping_rates
    ).order


def order_place_once(
    *,
    buyer: User,
    shipping_address: dict[str, Any],
    idempotency_key: str | None = None,
    request_hash: str = "",
    amount_limits: tuple[Decimal, Decimal] | None = None,
    shipping_rates: Mapping[str, int | None] | None = None,
    on_placed: Callable[[Order], None] | None = None,
) -> Placed:
    """Turn the buyer's cart into a ``pending_payment`` order, taking stock for every line (one
    line per variant) and making one store order per store, shipped with the rate named for it in
    ``shipping_rates`` ({store slug: rate id}) or else its cheapest to the address's country.

    All or nothing: raises EmptyCart, OutOfStock (listing each short line: product, variant sku,
    requested, available), ValidationError naming ``shipping_rates`` (a rate that is not one of
    that store's options there, a store not in the cart), NoShippingRate (stores whose rates none
    ship there) or AmountOutOfRange (the total is outside ``amount_limits``, the amounts the
    payment provider can charge), and then nothing changes. With an ``idempotency_key``, a retry
    within its 24 hours and with the same ``request_hash`` finds the order the first request made
    (``created`` False); the same key with another request raises Conflict
    ``idempotency_conflict``; after 24 hours the key is free. ``on_placed(order)`` runs last in the
    transaction that places the order (apps.checkout opens its payment attempt there: one
    transaction instead of two), and only for an order this call makes."""
    key = idempotency_key or ""
    holder = None
    if key:
        # One read: the order holding the key within its 24 hours is the answer; an older one
        # gives it up in the transaction that places the new order.
        holder = Order.objects.filter(buyer=buyer, idempotency_key=key).first()
        if holder is not None and holder.created_at >= timezone.now() - TTL:
            return Placed(_same_request(order=holder, request_hash=request_hash), created=False)
    try:
        order = _order_place(
            buyer=buyer,
            shipping_address=shipping_address,
            idempotency_key=key,
            expired_holder=holder.pk if holder is not None else None,
            request_hash=request_hash,
            amount_limits=amount_limits,
            shipping_rates=shipping_rates,
            on_placed=on_placed,
        )
    except IntegrityError:
        found = _order_for_key(buyer=buyer, key=key, request_hash=request_hash) if key else None
        if found is None:
            raise
        return Placed(found, created=False)
    return Placed(order, created=True)


def _order_for_key(*, buyer: User, key: str, request_hash: str) -> Order | None:
    order = Order.objects.filter(buyer=buyer, idempotency_key=key, created_at__gte=timezone.now() - TTL).first()
    return _same_request(order=order, request_hash=request_hash) if order is not None else None


def _same_request(*, order: Order, request_hash: str) -> Order:
    """The order a key made, for a request with the same body; IdempotencyConflict otherwise."""
    if order.idempotency_hash and request_hash and order.idempotency_hash != request_hash:
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
    shipping_rates: Mapping[str, int | None] | None = None,
    on_placed: Callable[[Order], None] | None = None,
    expired_holder: int | None = None,
) -> Order:
    cart = lock_cart(user=buyer)
    items = list(cart.items.order_by("variant_id"))
    if not items:
        raise EmptyCart()
    variants = lock_variants(ids=[item.variant_id for item in items])
    short = []
    for item in items:
        variant = variants[item.variant_id]
        available = variant.stock if _is_buyable(variant, buyer) else 0
        if available < item.quantity:
            short.append(
                {
                    "product": variant.product.slug,
                    "variant": variant.sku,
                    "requested": item.quantity,
                    "available": available,
                }
            )
    if short:
        raise OutOfStock(extra={"products": short})

    currency = settings.DEFAULT_CURRENCY
    lines = [_line_for(variant=variants[item.variant_id], quantity=item.quantity, currency=currency) for item in items]
    stores: dict[int, Store] = {}
    subtotals: dict[int, Decimal] = defaultdict(Decimal)
    for line in lines:
        stores[line.store_id] = line.store
        subtotals[line.store_id] += line.line_total
    country = str(shipping_address.get("country", "")).upper()
    chosen = _shipping_choose(stores=stores, subtotals=subtotals, country=country, requested=shipping_rates or {})
    rates = {store_id: store_commission_rate(store=store) for store_id, store in stores.items()}
    store_orders = {
        store_id: StoreOrder(
            store=store,
            store_name=store.name,
            store_slug=store.slug,
            subtotal=money(subtotals[store_id]),
            shipping=chosen[store_id].price,
            total=money(subtotals[store_id] + chosen[store_id].price),
            shipping_rate_id=chosen[store_id].id,
            shipping_method=chosen[store_id].snapshot(),
            commission_rate=rates[store_id],
            commission=money(rates[store_id] * subtotals[store_id] / 100),
        )
        for store_id, store in stores.items()
    }
    subtotal = money(sum((part.subtotal for part in store_orders.values()), Decimal("0")))
    shipping = money(sum((part.shipping for part in store_orders.values()), Decimal("0")))
    total = money(subtotal + shipping)
    if amount_limits is not None:
        order_total_check(total=total, currency=currency, limits=amount_limits)

    _stock_take(variants=variants, quantities={item.variant_id: item.quantity for item in items})
    if expired_holder is not None:  # the key's 24 hours are over for the older order holding it: it is free again
        Order.objects.filter(
            pk=expired_holder, idempotency_key=idempotency_key, created_at__lt=timezone.now() - TTL
        ).update(idempotency_key="", idempotency_hash="")
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
    for part in store_orders.values():
        part.order = order
    StoreOrder.objects.bulk_create(store_orders.values())
    for line in lines:
        line.order, line.store_order = order, store_orders[line.store_id]
    OrderLine.objects.bulk_create(lines)
    cart.items.all().delete()
    order_transition(order=order, to=order.status, actor=buyer, note="checkout", created=True)
    if on_placed is not None:
        on_placed(order)
    return order


def _line_for(*, variant: Variant, quantity: int, currency: str) -> OrderLine:
    """An order line for ``quantity`` of a locked ``variant``, snapshotting its product's name, its
    sku, options and price, and its store."""
    product = variant.product
    return OrderLine(
        product=product,
        variant=variant,
        store=product.store,
        product_name=product.name,
        product_slug=product.slug,
        variant_sku=variant.sku,
        variant_options=dict(variant.options),
        store_name=product.store.name,
        store_slug=product.store.slug,
        unit_price=variant.price,
        quantity=quantity,
        line_total=money(variant.price * quantity),
        currency=currency,
    )


def _shipping_choose(
    *,
    stores: Mapping[int, Store],
    subtotals: Mapping[int, Decimal],
    country: str,
    requested: Mapping[str, int | None],
) -> dict[int, ShippingOption]:
    """The shipping option of each store in the order: the one the buyer named in ``requested``
    (``{store slug: rate id}``), else (left out, or null) the store's cheapest for ``country``.

    Raises ValidationError naming ``shipping_rates`` for a slug of no store in the cart, or an id
    that is not one of that store's options there (another store's, inactive, not shipping to
    ``country``); NoShippingRate listing the stores whose rates none ship to ``country``."""
    by_slug = {store.slug: store_id for store_id, store in stores.items()}
    options = shipping_options(store_subtotals=subtotals, country=country)
    errors = [f'"{slug}" is not a store in your cart.' for slug in requested if slug not in by_slug]
    chosen: dict[int, ShippingOption] = {}
    nowhere = []
    for store_id, store in stores.items():
        rate_id = requested.get(store.slug)
        if not options[store_id]:
            nowhere.append(store.slug)
        elif rate_id is None:
            chosen[store_id] = options[store_id][0]
        else:
            match = next((option for option in options[store_id] if option.id == rate_id), None)
            if match is None:
                errors.append(f"{rate_id} is not a shipping rate of {store.slug} that ships to {country}.")
            else:
                chosen[store_id] = match
    if errors:
        raise ValidationError({"shipping_rates": errors})
    if nowhere:
        raise NoShippingRate.for_stores(slugs=sorted(nowhere), country=country)
    return chosen


def _stock_take(*, variants: Mapping[int, Variant], quantities: Mapping[int, int]) -> None:
    """Take ``quantities`` ({variant id: units}) of the locked ``variants`` in ONE conditional
    statement: every variant must still hold its units, or nothing moves and OutOfStock is raised
    (only possible without row locks, on SQLite; the database's stock >= 0 check backs it too).
    Then the products' derived stock is refreshed and the cached catalog retired."""
    ids = sorted(quantities)
    enough = Q()
    for pk in ids:
        enough |= Q(pk=pk, stock__gte=quantities[pk], is_active=True)
    try:
        taken = Variant.objects.filter(enough).update(
            stock=Case(*(When(pk=pk, then=F("stock") - quantities[pk]) for pk in ids), default=F("stock"))
        )
    except IntegrityError:
        taken = -1
    if taken != len(ids):
        # What is left now, when the database can still answer (after an IntegrityError it cannot).
        rows = Variant.objects.filter(pk__in=ids, is_active=True).values_list("pk", "stock") if taken >= 0 else []
        available = dict(rows)
        raise OutOfStock(
            extra={
                "products": [
                    {
                        "product": variants[pk].product.slug,
                        "variant": variants[pk].sku,
                        "requested": quantities[pk],
                        "available": available.get(pk, 0),
                    }
                    for pk in ids
                    if available.get(pk, 0) < quantities[pk]
                ]
            }
        )
    products_refresh(product_ids={variant.product_id for variant in variants.values()})
    # A list shows stock only as in_stock: it changes when a product's last units are taken.
    left: dict[int, int] = {}
    for pk in ids:
        product = variants[pk].product
        left[product.pk] = left.get(product.pk, product.stock) - quantities[pk]
    catalog_stock_changed(
        slugs=[variant.product.slug for variant in variants.values()], lists=any(units <= 0 for units in left.values())
    )


def order_total_check(*, total: Decimal, currency: str, limits: tuple[Decimal, Decimal]) -> None:
    """Raises AmountOutOfRange for a total outside ``limits`` (what the payment provider can charge)."""
    low, high = limits
    if not low <= total <= high:
        raise AmountOutOfRange.for_total(total=total, currency=currency, limits=limits)


def _is_buyable(variant: Variant, buyer: User) -> bool:
    product = variant.product
    return (
        variant.is_active
        and product.status == Product.Status.ACTIVE
        and product.store.is_active
        and product.store.owner_id != buyer.pk
    )


def order_transition(
    *,
    order: Order,
    to: str,
    actor: User | None = None,
    note: str = "",
    record_repeat: bool = False,
    created: bool = False,
    requested: bool = False,
    full_refund: bool = False,
) -> bool:
    """The one writer of order status and order events. Moves a locked ``order`` (the caller holds
    its row lock) to ``to``, moves its lines and store orders as LINE_CASCADE and
    STORE_ORDER_CASCADE say, and writes an event.

    Re-applying the current status is a no-op returning False (a webhook retry), unless
    ``record_repeat`` (the event is still worth writing: a second seller ships, a payment is
    flagged); anything outside the transition table raises InvalidTransition, and so does a repeat
    when the change was ``requested`` through the API (cancel a cancelled order: 409, not a no-op).
    ``created``: the order was just made and this is its first event (from nothing to its status).
    ``full_refund``: every store order was refunded in full and cancelled, which also allows the
    moves of FULL_REFUND_TRANSITIONS (an order shipped or delivered becomes ``cancelled``)."""
    if created:
        OrderEvent.objects.create(order=order, from_status="", to_status=to, actor=actor, note=note[:500])
        return True
    if order.status == to and requested:
        raise InvalidTransition.refused(status=order.status, change=f"become {to.replace('_', ' ')} again")
    if order.status == to:
        if record_repeat:
            OrderEvent.objects.create(order=order, from_status=to, to_status=to, actor=actor, note=note[:500])
        return False
    if not is_allowed(order.status, to, full_refund=full_refund):
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
    for part_from, part_to in STORE_ORDER_CASCADE.get(to, {}).items():
        stamp = {STORE_ORDER_STAMPS[part_to]: order.updated_at} if part_to in STORE_ORDER_STAMPS else {}
        order.store_orders.filter(status=part_from).update(status=part_to, updated_at=order.updated_at, **stamp)
    return True


def order_note(*, order: Order, note: str, actor: User | None = None) -> None:
    """An event that changes no status (a flagged payment, a refund, a dispute), on a locked order."""
    order_transition(order=order, to=order.status, actor=actor, note=note, record_repeat=True)


def _return_stock(*, order: Order) -> None:
    """Put back the stock of the order's lines still pending (call before the cancel cascade), per
    variant under the variants' locks, and refresh their products. Units a refund restocked
    already (``restocked_quantity``) are not returned again."""
    lines = list(
        order.lines.filter(status=LineStatus.PENDING, restocked_quantity__lt=F("quantity")).order_by("variant_id")
    )
    if not lines:
        return
    returned: dict[int, int] = defaultdict(int)
    for line in lines:
        returned[line.variant_id] += line.quantity - line.restocked_quantity
    _stock_return(returned=returned, lines=lines)


def _stock_return(*, returned: Mapping[int, int], lines: list[OrderLine]) -> None:
    """Add ``returned`` ({variant id: units}) to the variants' stock under their locks, refresh
    the products of ``lines`` and retire their cached catalog entries."""
    lock_variants(ids=returned)
    Variant.objects.filter(pk__in=list(returned)).update(
        stock=F("stock") + Case(*(When(pk=pk, then=Value(units)) for pk, units in returned.items()), default=Value(0))
    )
    products_refresh(product_ids={line.product_id for line in lines})
    # Returned stock may bring a sold-out product back into stock: lists change too.
    catalog_stock_changed(slugs=[line.product_slug for line in lines], lists=True)


def order_lines_refund(*, lines: Mapping[int, OrderLine], quantities: Mapping[int, int], restock: bool) -> None:
    """Count ``quantities`` ({line id: units}) of ``lines`` (read under their order's lock, the
    units checked by the caller against what is left: the database refuses more than bought) as
    refunded and, with ``restock``, put those units back in stock, once: the lines record it."""
    for pk, units in quantities.items():
        lines[pk].refunded_quantity += units
        if restock:
            lines[pk].restocked_quantity += units
    fields = ["refunded_quantity", "restocked_quantity"] if restock else ["refunded_quantity"]
    OrderLine.objects.bulk_update([lines[pk] for pk in sorted(quantities)], fields)
    if restock:
        returned: dict[int, int] = defaultdict(int)
        for pk, units in quantities.items():
            returned[lines[pk].variant_id] += units
        _stock_return(returned=returned, lines=[lines[pk] for pk in sorted(quantities)])


def order_lines_refund_release(*, order: Order, quantities: Mapping[int, int]) -> None:
    """A refund of ``quantities`` ({line id: units}) of a locked ``order``'s lines failed for good:
    the units are refundable again. Restocked units stay in stock (the goods are back)."""
    for pk, units in quantities.items():
        OrderLine.objects.filter(pk=pk, order_id=order.pk).update(refunded_quantity=F("refunded_quantity") - units)


def store_order_cancel_if_refunded(*, order: Order, store_order_id: int, actor: User | None = None) -> bool:
    """After a refund of a locked ``order`` succeeded: a store order whose lines are all refunded
    in full becomes ``cancelled`` with its lines (whatever they were: shipped goods came back or
    were written off), with an event; when every store order of the order is cancelled, the
    order is too (FULL_REFUND_TRANSITIONS). Returns whether the store order was cancelled now."""
    lines = OrderLine.objects.filter(store_order_id=store_order_id)
    if lines.filter(refunded_quantity__lt=F("quantity")).exists():
        return False
    cancelled = StoreOrder.objects.filter(pk=store_order_id).exclude(status=StoreOrderStatus.CANCELLED)
    part = cancelled.values_list("store_name", flat=True).first()
    if part is None:
        return False
    cancelled.update(status=StoreOrderStatus.CANCELLED, updated_at=timezone.now())
    lines.exclude(status=LineStatus.CANCELLED).update(status=LineStatus.CANCELLED)
    if order.store_orders.exclude(status=StoreOrderStatus.CANCELLED).exists():
        order_note(order=order, note=f"{part}'s part refunded in full: cancelled", actor=actor)
    else:
        order_transition(
            order=order,
            to=OrderStatus.CANCELLED,
            actor=actor,
            note=f"{part}'s part refunded in full: every part is cancelled",
            full_refund=True,
        )
    return True


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
    return order_mark_paid_locked(order=lock_order(pk=order_id), amount=amount, currency=currency, note=note)


def order_mark_paid_locked(*, order: Order, amount: Decimal, currency: str, note: str) -> str:
    """``order_mark_paid`` on an ``order`` the caller has locked (lock_order), inside its
    transaction: apps.payments records the provider's answer and pays the order in one."""
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
    """Mark the seller's store order of a paid order ``shipped`` (carrier, tracking number, when)
    and its lines with it; the order becomes ``partially_shipped`` while another store order is
    still pending, else ``shipped``. Another seller's order is NotFound; not paid yet, or this
    store order shipped already, is InvalidTransition; an order under review is OrderUnderReview."""
    with transaction.atomic():
        found = (
            StoreOrder.objects.filter(order__number=number, store__owner=seller).values_list("pk", "order_id").first()
        )
        if found is None:
            raise NotFound("Order not found.")
        part_id, order_id = found
        order = lock_order(pk=order_id)
        if order.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED):
            raise InvalidTransition.refused(status=order.status, change="be shipped")
        if order.needs_review:
            raise OrderUnderReview()
        now = timezone.now()
        shipped = StoreOrder.objects.filter(pk=part_id, status=StoreOrderStatus.PENDING).update(
            status=StoreOrderStatus.SHIPPED,
            carrier=carrier,
            tracking_number=tracking_number,
            shipped_at=now,
            updated_at=now,
        )
        if not shipped:
            raise InvalidTransition("Your part of this order is already shipped.", extra={"status": order.status})
        pending = list(order.lines.filter(store_order_id=part_id, status=LineStatus.PENDING))
        OrderLine.objects.filter(pk__in=[line.pk for line in pending]).update(
            status=LineStatus.SHIPPED, carrier=carrier, tracking_number=tracking_number, shipped_at=now
        )
        open_parts = order.store_orders.filter(status=StoreOrderStatus.PENDING).exists()
        target = OrderStatus.PARTIALLY_SHIPPED if open_parts else OrderStatus.SHIPPED
        note = f"shipped by {seller.store.name}" + (f" ({carrier} {tracking_number})".rstrip() if carrier else "")
        order_transition(order=order, to=target, actor=seller, note=note, record_repeat=True)
        for line in pending:
            line.status, line.carrier, line.tracking_number = LineStatus.SHIPPED, carrier, tracking_number
        order_shipped_notify(order=order, lines=pending)
    return order


@transaction.atomic
def order_confirm_delivery(*, order: Order, actor: User) -> Order:
    """The buyer confirms a ``shipped`` order delivered: its lines and store orders become
    ``delivered`` (stamped ``delivered_at``). Raises InvalidTransition from any other status."""
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
