"""Properties of checkout and of the order lifecycle, checked on generated inputs (hypothesis).

Totals: for any cart (prices 0.01..1,000,000.00, quantities 1..99, several stores) and any flat
shipping rate, the order's amounts add up to the cent and survive the trip to minor units.

Lifecycle: a state machine drives checkouts, payments (success, decline, late success),
shipping, cancellation, delivery, webhook replays and expiry on a small world in random order,
and after every step checks what must always hold: each order's history stays inside the
transition table, stock is never negative and never drifts, and money taken matches what the
orders say is paid.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from apps.accounts.tests.factories import StoreFactory, UserFactory
from apps.cart.services import cart_clear, cart_item_add
from apps.catalog.models import MAX_PRICE, MIN_PRICE, Product
from apps.catalog.tests.factories import ProductFactory
from apps.checkout.services import checkout_cancel, checkout_expire, checkout_pay, checkout_place
from apps.core.exceptions import NotFound
from apps.core.money import from_minor_units, to_minor_units
from apps.orders.exceptions import InvalidTransition
from apps.orders.models import LineStatus, Order, OrderStatus
from apps.orders.services import order_confirm_delivery, order_place, order_ship_lines
from apps.orders.status import is_allowed
from apps.orders.tests.factories import ADDRESS
from apps.payments.models import Payment, SimulatedPayment
from apps.payments.providers import get_provider
from apps.payments.providers.base import PaymentResult, PaymentStatus
from apps.payments.services import payment_apply_result

PRICES = st.decimals(min_value=MIN_PRICE, max_value=MAX_PRICE, places=2, allow_nan=False, allow_infinity=False)
RATES = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False)
LINES = st.lists(
    st.tuples(PRICES, st.integers(min_value=1, max_value=99), st.integers(min_value=0, max_value=3)),
    min_size=1,
    max_size=8,
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=LINES, rate=RATES)
def test_order_amounts_add_up_to_the_cent(lines, rate):
    with transaction.atomic(), override_settings(SHIPPING_FLAT_RATE=rate):
        buyer = UserFactory()
        stores = [StoreFactory() for _ in range(4)]
        products = [ProductFactory(store=stores[store], price=price, stock=99) for price, _, store in lines]
        for product, (_, quantity, _) in zip(products, lines, strict=True):
            cart_item_add(user=buyer, product_slug=product.slug, quantity=quantity)

        order = Order.objects.get(pk=order_place(buyer=buyer, shipping_address=ADDRESS).pk)

        expected_subtotal = sum((price * quantity for price, quantity, _ in lines), Decimal("0"))
        assert order.subtotal == expected_subtotal
        assert order.shipping == rate * len({store for _, _, store in lines})
        assert order.subtotal + order.shipping == order.total
        order_lines = list(order.lines.all())
        assert sorted((line.unit_price, line.quantity) for line in order_lines) == sorted(
            (price, quantity) for price, quantity, _ in lines
        )
        for line in order_lines:
            assert line.line_total == line.unit_price * line.quantity
        amounts = [order.subtotal, order.shipping, order.total]
        amounts += [line.unit_price for line in order_lines] + [line.line_total for line in order_lines]
        for amount in amounts:
            assert from_minor_units(to_minor_units(amount)) == amount
        assert to_minor_units(order.total) == sum(to_minor_units(line.line_total) for line in order_lines) + (
            to_minor_units(order.shipping)
        )
        transaction.set_rollback(True)  # the next example starts from an empty world


INITIAL_STOCK = 6
SHIPPING = Decimal("4.00")
RESERVATION_MINUTES = 30
METHODS = st.sampled_from(["pm_card_visa", "pm_card_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds"])
TAKEN = (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
LINE_STATUSES = {
    OrderStatus.PENDING_PAYMENT: {LineStatus.PENDING},
    OrderStatus.PAID: {LineStatus.PENDING},
    OrderStatus.SHIPPED: {LineStatus.SHIPPED},
    OrderStatus.DELIVERED: {LineStatus.DELIVERED},
    OrderStatus.CANCELLED: {LineStatus.CANCELLED},
}


class OrderLifecycle(RuleBasedStateMachine):
    """One buyer, two sellers (two products and one), every order action in random order.

    Each run builds a world of its own (the transactional database is only flushed after the
    whole test), so invariants look at this world's products and orders only."""

    orders = Bundle("orders")

    @initialize()
    def build_world(self):
        self.buyer = UserFactory()
        self.sellers = [StoreFactory().owner, StoreFactory().owner]
        self.products = [
            ProductFactory(store=self.sellers[0].store, price=Decimal("12.50"), stock=INITIAL_STOCK),
            ProductFactory(store=self.sellers[0].store, price=Decimal("0.99"), stock=INITIAL_STOCK),
            ProductFactory(store=self.sellers[1].store, price=Decimal("310.00"), stock=INITIAL_STOCK),
        ]
        self.keys: dict[str, str] = {}

    def order(self, number: str) -> Order:
        return Order.objects.get(number=number)

    @rule(
        target=orders,
        picks=st.lists(
            st.tuples(st.integers(0, 2), st.integers(1, 4)), min_size=1, max_size=3, unique_by=lambda pick: pick[0]
        ),
        method=st.one_of(st.none(), METHODS),
    )
    def checkout(self, picks, method):
        cart_clear(user=self.buyer)
        for index, quantity in picks:
            product = Product.objects.get(pk=self.products[index].pk)
            if product.stock >= quantity:
                cart_item_add(user=self.buyer, product_slug=product.slug, quantity=quantity)
        if not self.buyer.cart.items.exists():
            return multiple()
        stock_before = self.stock()
        key = uuid.uuid4().hex
        order = checkout_place(buyer=self.buyer, shipping_address=ADDRESS, payment_method=method, idempotency_key=key)

        order.refresh_from_db()
        assert not self.buyer.cart.items.exists()
        for line in order.lines.all():
            assert self.stock()[line.product_id] == stock_before[line.product_id] - line.quantity
        expected = OrderStatus.PAID if method == "pm_card_visa" else OrderStatus.PENDING_PAYMENT
        assert order.status == expected
        self.keys[order.number] = key
        return order.number

    @rule(number=orders)
    def checkout_retried(self, number):
        """A checkout retried with its Idempotency-Key finds the order it made; nothing moves."""
        stock_before = self.stock()
        again = order_place(buyer=self.buyer, shipping_address=ADDRESS, idempotency_key=self.keys[number])
        assert again.number == number
        assert self.stock() == stock_before

    @rule(number=orders, method=METHODS)
    def pay(self, number, method):
        before = self.order(number).status
        if before != OrderStatus.PENDING_PAYMENT:
            with pytest.raises(InvalidTransition):
                checkout_pay(order=self.order(number), payment_method=method)
            assert self.order(number).status == before
            return
        payment = checkout_pay(order=self.order(number), payment_method=method)
        succeeded = method == "pm_card_visa"
        assert payment.status == (PaymentStatus.SUCCEEDED if succeeded else PaymentStatus.FAILED)
        assert self.order(number).status == (OrderStatus.PAID if succeeded else OrderStatus.PENDING_PAYMENT)

    @rule(number=orders, seller=st.integers(0, 1))
    def ship(self, number, seller):
        order = self.order(number)
        own = order.lines.filter(store__owner=self.sellers[seller])
        if not own.exists():
            with pytest.raises(NotFound):
                order_ship_lines(seller=self.sellers[seller], number=number)
            return
        can_ship = (
            order.status in (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED)
            and own.filter(status=LineStatus.PENDING).exists()
        )
        if not can_ship:
            with pytest.raises(InvalidTransition):
                order_ship_lines(seller=self.sellers[seller], number=number)
            assert self.order(number).status == order.status
            return
        order_ship_lines(seller=self.sellers[seller], number=number, carrier="DHL", tracking_number="T1")
        still_open = order.lines.filter(status=LineStatus.PENDING).exists()
        assert self.order(number).status == (OrderStatus.PARTIALLY_SHIPPED if still_open else OrderStatus.SHIPPED)

    @rule(number=orders)
    def cancel(self, number):
        before = self.order(number).status
        if before not in (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID):
            with pytest.raises(InvalidTransition):
                checkout_cancel(order=self.order(number), actor=self.buyer)
            assert self.order(number).status == before
            return
        checkout_cancel(order=self.order(number), actor=self.buyer)
        assert self.order(number).status == OrderStatus.CANCELLED

    @rule(number=orders)
    def confirm_delivery(self, number):
        before = self.order(number).status
        if before != OrderStatus.SHIPPED:
            with pytest.raises(InvalidTransition):
                order_confirm_delivery(order=self.order(number), actor=self.buyer)
            assert self.order(number).status == before
            return
        order_confirm_delivery(order=self.order(number), actor=self.buyer)
        assert self.order(number).status == OrderStatus.DELIVERED

    @rule(number=orders)
    def webhook_replayed(self, number):
        """The provider reports again a success Bazaar has already applied: nothing changes."""
        order = self.order(number)
        payment = order.payments.filter(status__in=(PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED)).first()
        if payment is None:
            return
        events, payment_status = order.events.count(), payment.status
        result = PaymentResult(
            reference=payment.reference,
            status=PaymentStatus.SUCCEEDED,
            amount=payment.amount,
            currency=payment.currency,
        )
        payment_apply_result(payment=payment, result=result, note="webhook replay")

        assert self.order(number).status == order.status
        assert order.events.count() == events
        assert Payment.objects.get(pk=payment.pk).status == payment_status

    @rule(number=orders)
    def late_success(self, number):
        """The provider charges the latest attempt (a 3-D Secure step finished, a webhook) and its
        answer arrives now, whatever the order did meanwhile."""
        order = self.order(number)
        payment = order.payments.exclude(reference="").order_by("-attempt").first()
        if payment is None:
            return
        result = get_provider().confirm(
            payment_ref=payment.reference, payment_method="pm_card_visa", idempotency_key=uuid.uuid4().hex
        )
        payment_apply_result(payment=payment, result=result, note="late answer")
        if order.status == OrderStatus.PENDING_PAYMENT and result.status == PaymentStatus.SUCCEEDED:
            assert self.order(number).status == OrderStatus.PAID
        else:
            assert self.order(number).status == order.status

    @rule(number=orders)
    def reservation_expires(self, number):
        before = self.order(number).status
        Order.objects.filter(number=number).update(
            created_at=timezone.now() - timedelta(minutes=RESERVATION_MINUTES + 1)
        )
        expired = checkout_expire()
        assert expired == ([number] if before == OrderStatus.PENDING_PAYMENT else [])
        if before == OrderStatus.PENDING_PAYMENT:
            assert self.order(number).status == OrderStatus.CANCELLED

    def stock(self) -> dict[int, int]:
        return dict(Product.objects.filter(pk__in=[p.pk for p in self.products]).values_list("pk", "stock"))

    def world_orders(self):
        return Order.objects.filter(buyer=self.buyer).prefetch_related("events", "lines", "payments")

    @invariant()
    def history_stays_inside_the_transition_table(self):
        for order in self.world_orders():
            events = list(order.events.all())
            assert (events[0].from_status, events[0].to_status) == ("", OrderStatus.PENDING_PAYMENT)
            for previous, event in pairwise(events):
                assert event.from_status == previous.to_status
                # a note on the current status (a review flag) is no transition
                assert event.from_status == event.to_status or is_allowed(event.from_status, event.to_status)
            assert events[-1].to_status == order.status

    @invariant()
    def stock_is_never_negative_and_never_drifts(self):
        stock = self.stock()
        held = dict.fromkeys(stock, 0)
        for order in self.world_orders():
            for line in order.lines.all():
                if line.status != LineStatus.CANCELLED:
                    held[line.product_id] += line.quantity
        for product_id, left in stock.items():
            assert left >= 0
            assert left + held[product_id] == INITIAL_STOCK

    @invariant()
    def lines_follow_their_order(self):
        for order in self.world_orders():
            statuses = {line.status for line in order.lines.all()}
            if order.status == OrderStatus.PARTIALLY_SHIPPED:
                assert statuses == {LineStatus.PENDING, LineStatus.SHIPPED}
            else:
                assert statuses == LINE_STATUSES[order.status]

    @invariant()
    def money_taken_matches_what_is_paid(self):
        for order in self.world_orders():
            payments = list(order.payments.all())
            succeeded = [p for p in payments if p.status == PaymentStatus.SUCCEEDED]
            refunded = [p for p in payments if p.status == PaymentStatus.REFUNDED]
            assert order.subtotal + order.shipping == order.total
            if order.status in TAKEN:
                assert (len(succeeded), len(refunded)) == (1, 0)
                assert succeeded[0].amount == order.total
            else:  # pending or cancelled: nothing kept (a success after a cancel is refunded)
                assert succeeded == []
            if order.status == OrderStatus.PENDING_PAYMENT:
                assert refunded == []
            # Bazaar's books agree with the provider's, payment by payment
            for payment in payments:
                if payment.reference:
                    remote = SimulatedPayment.objects.get(reference=payment.reference)
                    assert remote.status == payment.status


OrderLifecycle.TestCase.settings = settings(
    max_examples=20, stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.django_db(transaction=True)  # refunds and provider cancels run on commit
class TestOrderLifecycle(OrderLifecycle.TestCase):
    @pytest.fixture(autouse=True)
    def _world_settings(self, settings):
        settings.SHIPPING_FLAT_RATE = SHIPPING
        settings.ORDER_RESERVATION_MINUTES = RESERVATION_MINUTES
        settings.PAYMENT_PROVIDER = "simulated"
