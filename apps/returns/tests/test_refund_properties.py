"""Σ parts = whole over any sequence of partial line refunds (hypothesis): what the buyer got back,
what the store orders record, the payment's refunded amount and the ledger agree to the cent,
and the commission returned never drifts from the rounded share of what was refunded."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from apps.accounts.tests.factories import StoreFactory, UserFactory
from apps.catalog.tests.factories import ProductFactory
from apps.checkout.services import checkout_place
from apps.core.money import money
from apps.ledger.models import Account, Kind, LedgerEntry
from apps.orders.models import StoreOrder, StoreOrderStatus
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.exceptions import RefundExceeds
from apps.payments.models import Payment, Refund, RefundLine
from apps.payments.refunds import refund_lines
from apps.payments.services import refund_send
from apps.shipping.models import ShippingRate

CENT = Decimal("0.01")
PRICES = st.decimals(min_value=Decimal("0.50"), max_value=Decimal("999.99"), places=2)  # 0.50: the least chargeable
RATES = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("40.00"), places=2)
# Each step: for each of the (up to) three lines, how many units to ask for (0: none), and shipping.
STEPS = st.lists(
    st.tuples(st.lists(st.integers(min_value=0, max_value=4), min_size=3, max_size=3), st.booleans()),
    min_size=1,
    max_size=8,
)


def total(queryset, field="amount") -> Decimal:
    """A sum, to the cent (SQLite sums decimals as floats)."""
    return money(queryset.aggregate(total=Sum(field))["total"] or 0)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.tuples(PRICES, st.integers(min_value=1, max_value=4)), min_size=1, max_size=3),
    shipping=st.decimals(min_value=Decimal("0.00"), max_value=Decimal("50.00"), places=2),
    rate=RATES,
    steps=STEPS,
)
def test_partial_refunds_add_up_to_the_whole(lines, shipping, rate, steps):
    with transaction.atomic():
        buyer = UserFactory()
        store = StoreFactory(commission_rate=rate)
        ShippingRate.objects.create(store=store, name="Post", price=shipping)
        products = [ProductFactory(store=store, price=price, stock=10) for price, _ in lines]
        fill_cart(buyer, *[(product, units) for product, (_, units) in zip(products, lines, strict=True)])
        order = checkout_place(buyer=buyer, shipping_address=ADDRESS, payment_method="pm_card_visa")
        part = StoreOrder.objects.get(order=order)
        order_lines = list(part.lines.order_by("pk"))

        for asked, with_shipping in steps:
            wanted = [(line.pk, units) for line, units in zip(order_lines, asked, strict=False) if units]
            try:
                refund = refund_lines(
                    store_order=part, lines=wanted, shipping=with_shipping, restock=False, reason="", actor=None
                )
            except RefundExceeds:
                continue  # more than left: refused whole, checked below by the totals
            except ValidationError:
                assert not wanted
                assert not with_shipping
                continue
            assert refund_send(refund=refund).status == "succeeded"

        part.refresh_from_db()
        refunds = Refund.objects.filter(store_order=part, status="succeeded")
        refunded = total(refunds)
        payment = Payment.objects.get(order=order)
        entries = LedgerEntry.objects.filter(order=order, kind=Kind.REFUND)
        # What came back, counted four ways.
        assert refunded == part.refunded_items + part.refunded_shipping
        assert refunded == payment.amount_refunded
        assert refunded == total(entries.filter(account=Account.BUYER))
        assert total(refunds, "items_amount") == part.refunded_items
        # Units: what the lines say equals what the refunds say, and never more than bought.
        for line in order_lines:
            line.refresh_from_db()
            assert line.refunded_quantity == total(RefundLine.objects.filter(line=line), "quantity")
            assert line.refunded_quantity <= line.quantity
            assert part.refunded_items >= line.unit_price * line.refunded_quantity
        assert part.refunded_shipping in (Decimal("0"), part.shipping)
        # Commission: the parts sum to the rounded share of the whole, all of it on a full refund.
        returned = -total(entries.filter(account=Account.COMMISSION))
        assert returned == part.refunded_commission
        if part.refunded_items == part.subtotal:
            assert returned == part.commission
            assert part.status == StoreOrderStatus.CANCELLED
        elif part.subtotal:
            share = (part.commission * part.refunded_items / part.subtotal).quantize(CENT, rounding=ROUND_HALF_UP)
            assert returned == share
        assert total(LedgerEntry.objects.filter(order=order)) == 0
        assert payment.amount_refunded <= payment.amount_received
        transaction.set_rollback(True)
