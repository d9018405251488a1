"""The ledger: append-only, double-entry, posted in the transactions of money events, replay-safe,
and exact to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.test import TestCase
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.accounts.tests.factories import StoreFactory
from apps.catalog.tests.factories import ProductFactory
from apps.ledger.models import Account, Kind, LedgerEntry
from apps.ledger.selectors import order_ledger_sum, store_balance, store_entries
from apps.ledger.services import (
    Leg,
    Portion,
    Unbalanced,
    commission_returned,
    ledger_post,
    ledger_refund,
    refund_portions,
)
from apps.orders.models import Order, StoreOrder
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.models import Payment, Refund
from apps.payments.providers.base import RefundStatus
from apps.payments.services import payment_outside_refund

pytestmark = pytest.mark.django_db


def paid_order(client_for, buyer, *prices_and_quantities) -> Order:
    pairs = [(ProductFactory(price=Decimal(price)), quantity) for price, quantity in prices_and_quantities]
    fill_cart(buyer, *pairs)
    body = {"shipping_address": ADDRESS, "payment_method": "pm_card_visa"}
    response = client_for(buyer).post("/api/v1/checkout/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "paid"
    return Order.objects.get(number=response.json()["number"])


def entries(order: Order) -> list[tuple[str, str, str | None, Decimal]]:
    return sorted(
        (entry.kind, entry.account, entry.store.slug if entry.store else None, entry.amount)
        for entry in LedgerEntry.objects.filter(order=order).select_related("store")
    )


# --- what a payment writes -----------------------------------------------------------------------


def test_a_paid_order_is_captured_then_split_between_sellers_and_commission(client_for, buyer):
    order = paid_order(client_for, buyer, ("10.00", 2), ("5.55", 1))
    first, second = StoreOrder.objects.filter(order=order).order_by("pk")

    assert entries(order) == sorted(
        [
            (Kind.CAPTURE, Account.BUYER, None, -order.total),
            (Kind.CAPTURE, Account.UNAPPLIED, None, order.total),
            (Kind.SALE, Account.UNAPPLIED, None, -order.total),
            (Kind.SALE, Account.PAYABLE, first.store.slug, first.total - first.commission),
            (Kind.SALE, Account.COMMISSION, first.store.slug, Decimal("2.00")),
            (Kind.SALE, Account.PAYABLE, second.store.slug, second.total - second.commission),
            (Kind.SALE, Account.COMMISSION, second.store.slug, Decimal("0.56")),  # 10 % of 5.55, half up
        ]
    )
    assert order_ledger_sum(order_id=order.pk) == 0
    balance = store_balance(store=first.store)
    assert (balance.pending, balance.available, balance.transferred) == (first.seller_net, 0, 0)


def test_a_declined_payment_writes_nothing(client_for, buyer):
    fill_cart(buyer, (ProductFactory(price=Decimal("10.00")), 1))
    body = {"shipping_address": ADDRESS, "payment_method": "pm_card_chargeDeclined"}
    response = client_for(buyer).post("/api/v1/checkout/", body, format="json")

    assert response.json()["status"] == "pending_payment"
    assert not LedgerEntry.objects.exists()


def test_a_cancelled_paid_order_is_refunded_in_full_out_of_each_store_order(client_for, buyer):
    order = paid_order(client_for, buyer, ("10.00", 1), ("20.00", 1))

    with TestCase.captureOnCommitCallbacks(execute=True):  # the refund is sent after commit
        assert client_for(buyer).post(f"/api/v1/orders/{order.number}/cancel/").status_code == 200

    assert order_ledger_sum(order_id=order.pk) == 0
    for store_order in StoreOrder.objects.filter(order=order):
        payable = LedgerEntry.objects.filter(store_order=store_order, account=Account.PAYABLE).aggregate(
            total=Sum("amount")
        )["total"]
        commission = LedgerEntry.objects.filter(store_order=store_order, account=Account.COMMISSION).aggregate(
            total=Sum("amount")
        )["total"]
        assert (payable, commission) == (0, 0)
        assert (store_order.refunded_items, store_order.refunded_shipping) == (store_order.subtotal, 0)
        assert store_order.refunded_commission == store_order.commission
    buyer_side = LedgerEntry.objects.filter(order=order, account=Account.BUYER).aggregate(total=Sum("amount"))
    assert buyer_side["total"] == 0  # all of it went back


def test_an_outside_refund_is_split_over_store_orders_once(client_for, buyer):
    order = paid_order(client_for, buyer, ("30.00", 1), ("10.00", 1))
    payment = Payment.objects.get(order=order, settles_order=True)

    payment_outside_refund(payment=payment, refunded_total=Decimal("10.00"), key="outside-1")
    payment_outside_refund(payment=payment, refunded_total=Decimal("10.00"), key="outside-1")  # replay

    refunds = LedgerEntry.objects.filter(order=order, kind=Kind.REFUND)
    assert refunds.filter(account=Account.BUYER).aggregate(total=Sum("amount"))["total"] == Decimal("10.00")
    big, small = StoreOrder.objects.filter(order=order).order_by("-subtotal")
    assert (big.refunded_items, small.refunded_items) == (Decimal("7.50"), Decimal("2.50"))
    assert (big.refunded_commission, small.refunded_commission) == (Decimal("0.75"), Decimal("0.25"))
    assert order_ledger_sum(order_id=order.pk) == 0
    assert Order.objects.get(pk=order.pk).needs_review
    assert Refund.objects.get(payment=payment).status == RefundStatus.SUCCEEDED


# --- append-only ---------------------------------------------------------------------------------


def test_entries_cannot_be_changed_or_deleted_through_the_orm(client_for, buyer):
    order = paid_order(client_for, buyer, ("10.00", 1))
    entry = LedgerEntry.objects.filter(order=order).first()

    entry.amount = Decimal("1.00")
    with pytest.raises(TypeError, match="append-only"):
        entry.save()
    with pytest.raises(TypeError, match="append-only"):
        entry.delete()
    with pytest.raises(TypeError, match="append-only"):
        LedgerEntry.objects.filter(order=order).update(amount=0)
    with pytest.raises(TypeError, match="append-only"):
        LedgerEntry.objects.filter(order=order).delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount != Decimal("1.00")


@pytest.mark.postgres
def test_the_database_refuses_updates_and_deletes_of_entries(client_for, buyer):
    order = paid_order(client_for, buyer, ("10.00", 1))
    entry = LedgerEntry.objects.filter(order=order).first()
    for statement in (
        "UPDATE ledger_ledgerentry SET amount = 0 WHERE id = %s",
        "DELETE FROM ledger_ledgerentry WHERE id = %s",
    ):
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).amount == entry.amount


# --- posting rules -------------------------------------------------------------------------------


def test_an_unbalanced_event_is_refused_and_a_replay_writes_nothing(client_for, buyer):
    order = paid_order(client_for, buyer, ("10.00", 1))
    before = LedgerEntry.objects.count()
    with transaction.atomic():
        with pytest.raises(Unbalanced):
            ledger_post(
                key="bad",
                kind=Kind.CAPTURE,
                order=order,
                currency="USD",
                legs=[Leg(Account.BUYER, Decimal("-1.00")), Leg(Account.UNAPPLIED, Decimal("0.99"))],
            )
        legs = [Leg(Account.BUYER, Decimal("-1.00")), Leg(Account.UNAPPLIED, Decimal("1.00"))]
        assert ledger_post(key="ok", kind=Kind.CAPTURE, order=order, currency="USD", legs=legs)
        assert not ledger_post(key="ok", kind=Kind.CAPTURE, order=order, currency="USD", legs=legs)
    assert LedgerEntry.objects.count() == before + 2


@pytest.mark.django_db(transaction=True)
def test_posting_outside_a_transaction_is_a_bug():
    legs = [Leg(Account.BUYER, Decimal("-1.00")), Leg(Account.UNAPPLIED, Decimal("1.00"))]
    with pytest.raises(RuntimeError, match="inside the transaction"):
        ledger_post(key="x", kind=Kind.CAPTURE, order=None, currency="USD", legs=legs)


def test_a_refund_of_a_payment_that_paid_nothing_comes_out_of_unapplied(client_for, buyer):
    order = paid_order(client_for, buyer, ("10.00", 1))
    with transaction.atomic():
        ledger_refund(order=order, key="r-1", amount=Decimal("3.00"), currency="USD", settled=False)

    refund = {entry.account: entry.amount for entry in LedgerEntry.objects.filter(event_key="r-1")}
    assert refund == {Account.UNAPPLIED: Decimal("-3.00"), Account.BUYER: Decimal("3.00")}
    assert StoreOrder.objects.get(order=order).refunded_items == 0


def test_a_store_order_refund_names_its_items_and_shipping(client_for, buyer):
    order = paid_order(client_for, buyer, ("9.99", 3))
    store_order = StoreOrder.objects.get(order=order)
    with transaction.atomic():
        ledger_refund(
            order=order,
            key="r-2",
            amount=Decimal("9.99"),
            currency="USD",
            portions=[Portion(store_order, Decimal("9.99"), Decimal("0.00"))],
        )
    store_order.refresh_from_db()
    assert (store_order.refunded_items, store_order.refunded_commission) == (Decimal("9.99"), Decimal("1.00"))
    assert order_ledger_sum(order_id=order.pk) == 0
    with pytest.raises(Unbalanced), transaction.atomic():
        ledger_refund(
            order=order,
            key="r-3",
            amount=Decimal("1.00"),
            currency="USD",
            portions=[Portion(store_order, Decimal("2.00"), Decimal("0.00"))],
        )


def test_a_seller_sees_only_its_own_accounts(client_for, buyer):
    order = paid_order(client_for, buyer, ("10.00", 1), ("20.00", 1))
    mine, theirs = StoreOrder.objects.filter(order=order).order_by("pk")

    shown = list(store_entries(store=mine.store))

    assert shown
    assert {entry.account for entry in shown} == {Account.PAYABLE}
    assert {entry.store_id for entry in shown} == {mine.store_id}
    assert store_balance(store=StoreFactory()).pending == 0
    assert theirs.store_id not in {entry.store_id for entry in shown}


# --- rounding ------------------------------------------------------------------------------------


cents = st.integers(min_value=1, max_value=10_000_000).map(lambda value: Decimal(value) / 100)
rates = st.integers(min_value=0, max_value=10_000).map(lambda value: Decimal(value) / 100)


@settings(max_examples=200, deadline=None)
@given(subtotal=cents, rate=rates, cuts=st.lists(st.floats(min_value=0, max_value=1), max_size=20))
def test_commission_returned_by_any_sequence_of_refunds_sums_to_the_commission(subtotal, rate, cuts):
    """Refunds of the items in any number of parts (running totals at the drawn fractions of the
    subtotal, then the rest) give back exactly the commission, never a negative part."""
    commission = (rate * subtotal / 100).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    store_order = StoreOrder(subtotal=subtotal, shipping=Decimal("0"), total=subtotal, commission=commission)
    running = sorted({(subtotal * Decimal(str(cut))).quantize(Decimal("0.01"), rounding="ROUND_DOWN") for cut in cuts})
    returned = Decimal("0.00")
    for refunded in [*running, subtotal]:
        part = commission_returned(store_order=store_order, items_refunded=refunded) - returned
        assert part >= 0  # commission never flows back to the platform on a refund
        returned += part
    assert returned == commission


@settings(max_examples=300, deadline=None)
@given(
    store_orders=st.lists(st.tuples(cents, cents.map(lambda value: value / 10)), min_size=1, max_size=4),
    share=st.integers(min_value=1, max_value=100),
)
def test_a_split_refund_takes_exactly_its_amount_and_never_more_than_a_store_order_has(store_orders, share):
    rows = [
        StoreOrder(pk=index + 1, subtotal=items, shipping=shipping.quantize(Decimal("0.01")), total=0, commission=0)
        for index, (items, shipping) in enumerate(store_orders)
    ]
    room = sum(row.subtotal + row.shipping for row in rows)
    amount = (room * share / 100).quantize(Decimal("0.01"))

    portions, leftover = refund_portions(store_orders=rows, amount=amount)
    assert sum(p.items + p.shipping for p in portions) + leftover == amount
    assert leftover == 0
    for portion in portions:
        row = portion.store_order
        assert 0 <= portion.items <= row.subtotal
        assert 0 <= portion.shipping <= row.shipping
        assert portion.shipping == 0 or portion.items == row.subtotal  # items first, then shipping
        fair = amount * (row.subtotal + row.shipping) / room
        assert abs(portion.items + portion.shipping - fair) < Decimal("0.01")  # in proportion, to the cent

    portions, leftover = refund_portions(store_orders=rows, amount=room + Decimal("1.00"))
    assert leftover == Decimal("1.00")
    assert [(p.items, p.shipping) for p in portions] == [(row.subtotal, row.shipping) for row in rows]
