"""Posting money events to the ledger. Each function writes one event's entries (summing to zero)
and must run inside the transaction that records the event, with the order locked when it reads
or changes store orders (apps.orders.locks). Each returns False, writing nothing, when its
``key`` was posted already: a replayed event (a webhook delivered twice, a retried task, two
workers at once) is absorbed by the unique key, not by a check that could race."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from apps.core.money import CENT, money
from apps.ledger.models import Account, Kind, LedgerEntry
from apps.orders.models import Order, StoreOrder

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Leg:
    account: str
    amount: Decimal
    store_order: StoreOrder | None = None


class Unbalanced(ValueError):
    """An event whose entries do not sum to zero: a bug, never posted."""


@dataclass(frozen=True)
class Event:
    """One money event to post: its legs under ``key`` (see ledger_post)."""

    key: str
    kind: str
    order: Order | None
    currency: str
    legs: list[Leg]
    note: str = ""


def ledger_post(*, key: str, kind: str, order: Order | None, currency: str, legs: list[Leg], note: str = "") -> bool:
    """Write one event: its legs (zero amounts dropped) under ``key``. Raises Unbalanced when they do
    not sum to zero; returns False when ``key`` is in the ledger already."""
    return ledger_post_events([Event(key=key, kind=kind, order=order, currency=currency, legs=legs, note=note)])[0]


def ledger_post_events(events: list[Event]) -> list[bool]:
    """Write several events of one transaction (a capture and the sale it pays, say) in two
    statements: one check of their keys, one insert. Each is as ledger_post: Unbalanced (nothing
    written) when one does not sum to zero; False, per event, for a key in the ledger already."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_post runs inside the transaction that records its event")
    prepared: list[tuple[Event, list[LedgerEntry]]] = []
    for event in events:
        legs = [leg for leg in event.legs if leg.amount != 0]
        if sum((leg.amount for leg in legs), ZERO) != 0:
            raise Unbalanced(f"{event.key}: entries sum to {sum(leg.amount for leg in legs)}")
        entries = [
            LedgerEntry(
                event_key=event.key,
                leg=index,
                kind=event.kind,
                account=leg.account,
                store_id=leg.store_order.store_id if leg.store_order is not None else None,
                order=event.order,
                store_order=leg.store_order,
                amount=money(leg.amount),
                currency=event.currency,
                note=event.note[:200],
            )
            for index, leg in enumerate(legs)
        ]
        prepared.append((event, entries))
    keys = [event.key for event, entries in prepared if entries]
    # Callers post under the lock of the row whose state records the event (the payment, the
    # order, the refund, the transfer), so two postings of one key cannot both pass this check;
    # if a bug let them, the unique key makes the second transaction fail as a whole.
    posted = set(LedgerEntry.objects.filter(event_key__in=keys).values_list("event_key", flat=True)) if keys else set()
    written = [bool(entries) and event.key not in posted for event, entries in prepared]  # a replay: the first stands
    rows = [entry for (_, entries), write in zip(prepared, written, strict=True) if write for entry in entries]
    if rows:
        LedgerEntry.objects.bulk_create(rows)
    return written


def capture_event(*, order: Order, key: str, amount: Decimal, currency: str, note: str = "") -> Event:
    """A provider took ``amount`` from the buyer for ``order``: it is unapplied until the payment
    pays the order (the sale) or is refunded."""
    legs = [Leg(Account.BUYER, -money(amount)), Leg(Account.UNAPPLIED, money(amount))]
    return Event(key=key, kind=Kind.CAPTURE, order=order, currency=currency, legs=legs, note=note)


def ledger_capture(*, order: Order, key: str, amount: Decimal, currency: str, note: str = "") -> bool:
    """Post capture_event (returns False for a replay)."""
    return ledger_post_events([capture_event(order=order, key=key, amount=amount, currency=currency, note=note)])[0]


def sale_event(*, order: Order, key: str, note: str = "") -> Event:
    """The order is paid: its total leaves ``unapplied`` for each store order's seller net
    (``payable``) and commission. Anything received beyond the total stays unapplied (and a
    shortfall staff accepted leaves it negative: the platform bears it). Reads the store orders."""
    legs: list[Leg] = []
    for store_order in StoreOrder.objects.filter(order_id=order.pk).order_by("pk"):
        legs.append(Leg(Account.PAYABLE, store_order.total - store_order.commission, store_order))
        legs.append(Leg(Account.COMMISSION, store_order.commission, store_order))
    legs.append(Leg(Account.UNAPPLIED, -sum((leg.amount for leg in legs), ZERO)))
    return Event(key=key, kind=Kind.SALE, order=order, currency=order.currency, legs=legs, note=note)


def ledger_sale(*, order: Order, key: str, note: str = "") -> bool:
    """Post sale_event (returns False for a replay)."""
    return ledger_post_events([sale_event(order=order, key=key, note=note)])[0]


def commission_returned(*, store_order: StoreOrder, items_refunded: Decimal) -> Decimal:
    """The commission a store order has given back once ``items_refunded`` of its item subtotal is
    refunded in all: rounded half up on the running total, so the parts of any sequence of refunds
    sum to exactly the rounded whole (no cent drifts), and a full refund returns all of it."""
    if store_order.subtotal <= 0:
        return ZERO
    if items_refunded >= store_order.subtotal:
        return store_order.commission
    share = store_order.commission * items_refunded / store_order.subtotal
    return share.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Portion:
    """What a refund takes from one store order: of its items, of its shipping."""

    store_order: StoreOrder
    items: Decimal
    shipping: Decimal


def refund_portions(*, store_orders: list[StoreOrder], amount: Decimal) -> tuple[list[Portion], Decimal]:
    """Split a refund not tied to lines (a whole order, one made outside Bazaar) over an order's
    store orders in proportion to what each has left to refund (items first, then shipping), to
    the cent (largest remainder). Returns the portions and what is left over (more than the store
    orders have left: it comes from ``unapplied``)."""
    left = {so.pk: (so.subtotal - so.refunded_items, so.shipping - so.refunded_shipping) for so in store_orders}
    room = sum((items + shipping for items, shipping in left.values()), ZERO)
    take = min(money(amount), room)
    if take <= 0:
        return [], money(amount)
    cents = int(take / CENT)
    weights = {pk: items + shipping for pk, (items, shipping) in left.items()}
    exact = {pk: Decimal(cents) * weight / room for pk, weight in weights.items()}
    shares = {pk: int(value) for pk, value in exact.items()}
    by_remainder = sorted(exact, key=lambda pk: (-(exact[pk] - shares[pk]), pk))
    for pk in by_remainder[: cents - sum(shares.values())]:
        shares[pk] += 1
    portions = []
    for so in store_orders:
        share = Decimal(shares[so.pk]) * CENT
        items = min(share, left[so.pk][0])
        portions.append(Portion(so, items, share - items))
    return [portion for portion in portions if portion.items or portion.shipping], money(amount) - take


def ledger_refund(
    *,
    order: Order,
    key: str,
    amount: Decimal,
    currency: str,
    portions: list[Portion] | None = None,
    settled: bool = True,
    note: str = "",
) -> bool:
    """``amount`` went back to the buyer. A refund of the payment that paid the order (``settled``)
    comes out of the store orders it names in ``portions`` (default: refund_portions), each giving
    back commission in proportion to the items refunded, and records the store orders' refunded
    amounts; anything else comes out of ``unapplied``. Call with the order locked."""
    amount = money(amount)
    leftover = amount
    if settled:
        if portions is None:
            store_orders = list(StoreOrder.objects.filter(order_id=order.pk).order_by("pk"))
            portions, leftover = refund_portions(store_orders=store_orders, amount=amount)
        else:
            leftover = amount - sum((portion.items + portion.shipping for portion in portions), ZERO)
    else:
        portions = []
    if leftover < 0:
        raise Unbalanced(f"{key}: portions exceed the refund of {amount}")
    legs: list[Leg] = []
    updates: list[StoreOrder] = []
    for portion in portions:
        store_order = StoreOrder.objects.select_for_update().get(pk=portion.store_order.pk)
        items_refunded = store_order.refunded_items + portion.items
        commission_back = commission_returned(store_order=store_order, items_refunded=items_refunded)
        commission_back -= store_order.refunded_commission
        legs.append(Leg(Account.PAYABLE, -(portion.items + portion.shipping - commission_back), store_order))
        legs.append(Leg(Account.COMMISSION, -commission_back, store_order))
        store_order.refunded_items = items_refunded
        store_order.refunded_shipping += portion.shipping
        store_order.refunded_commission += commission_back
        updates.append(store_order)
    legs.append(Leg(Account.UNAPPLIED, -leftover))
    legs.append(Leg(Account.BUYER, amount))
    posted = ledger_post(key=key, kind=Kind.REFUND, order=order, currency=currency, legs=legs, note=note)
    if posted:
        for store_order in updates:
            store_order.save(update_fields=["refunded_items", "refunded_shipping", "refunded_commission", "updated_at"])
    return posted


def ledger_transfer(*, store_order: StoreOrder, key: str, amount: Decimal, currency: str, note: str = "") -> bool:
    """``amount`` of the store order's payable was sent to the store's connected account."""
    legs = [Leg(Account.PAYABLE, -money(amount), store_order), Leg(Account.PAYOUTS, money(amount), store_order)]
    return ledger_post(key=key, kind=Kind.TRANSFER, order=store_order.order, currency=currency, legs=legs, note=note)


def ledger_reversal(*, store_order: StoreOrder, key: str, amount: Decimal, currency: str, note: str = "") -> bool:
    """``amount`` came back from the store's connected account (a transfer reversal)."""
    legs = [Leg(Account.PAYOUTS, -money(amount), store_order), Leg(Account.PAYABLE, money(amount), store_order)]
    return ledger_post(key=key, kind=Kind.REVERSAL, order=store_order.order, currency=currency, legs=legs, note=note)
