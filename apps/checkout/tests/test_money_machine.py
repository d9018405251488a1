"""The money machine (issue 11): a state machine drives checkout, pay, cancel, expiry, webhooks (in
order, out of order, replayed), a second browser tab paying the same order, the provider taking
another amount, the sync and the refund sweep on a small world in random order, with the simulated
provider's refunds failing now and then. After every step it checks what must always hold:

- refunds never exceed what a payment received, and Bazaar's refunded amount is the sum of its
  refunds that succeeded, as the provider's books say;
- an order and its payments agree: a paid (or shipped) order has exactly one settling payment,
  which received money and is not refunded; a pending order has none, and holds no money unless
  it is flagged ``needs_review``;
- stock is what the live orders do not hold;
- the ledger agrees (issue 13): each order's entries sum to zero, the buyers' account has given
  what the payments kept, and sellers and the platform hold what paid orders have not refunded.

Right after a refund sweep that met no outage, no payment of a cancelled order and no second
charge of a paid one still holds money (flagged orders excepted: staff settle them); after the
reconcile task (sync, then sweep) the provider's books say the same.

Each example runs in a savepoint rolled back at its end, so the sweeps and the sync, which look at
every payment, see this example's world only. Each rule is one request or task: the work its
services schedule on commit (refunds sent after a cancel, mails) runs when it ends.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import F
from django.test import TestCase
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from apps.accounts.tests.factories import StoreFactory, UserFactory
from apps.cart.services import cart_clear, cart_item_add
from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory
from apps.checkout.services import checkout_cancel, checkout_expire, checkout_pay, checkout_place
from apps.ledger.models import Account, LedgerEntry
from apps.orders.exceptions import InvalidTransition, OrderUnderReview
from apps.orders.models import LineStatus, Order, OrderStatus
from apps.orders.services import order_ship_lines
from apps.orders.tests.factories import ADDRESS
from apps.payments.exceptions import PaymentUnderReview
from apps.payments.models import Payment, SimulatedPayment
from apps.payments.providers import get_provider
from apps.payments.providers.base import PaymentResult, PaymentStatus, ProviderError, RefundStatus
from apps.payments.providers.simulated import SimulatedProvider
from apps.payments.services import payment_apply_result, payment_start, payments_refund_due, payments_sync

INITIAL_STOCK = 8
MAX_ORDERS = 3  # a few orders per example, so that the events meet on the same ones
PRICES = (Decimal("12.50"), Decimal("0.99"))
SHIPPING = Decimal("4.00")
RESERVATION_MINUTES = 30
VISA = "pm_card_visa"
METHODS = st.sampled_from([VISA, "pm_card_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds"])
# Orders a payment has paid for.
SETTLED = (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
OPEN = (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION, PaymentStatus.FAILED)
# What the provider's books say of a payment whose money it has taken (all or part of it may be back).
CHARGED = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
CLAIMING = (RefundStatus.SUCCEEDED, RefundStatus.PENDING)
ZERO = Decimal("0.00")


@contextmanager
def request():
    """One request or task: what its services scheduled on commit runs when it ends, as it would
    after the real commit (the test's savepoint never commits)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield


def received(payment: Payment) -> Decimal:
    return payment.amount_received or ZERO


@dataclass(frozen=True)
class World:
    orders: list[Order]
    payments: list[Payment]
    books: dict[str, SimulatedPayment]  # the provider's record of each payment, by reference
    stock: dict[int, int]


class MoneyMachine(RuleBasedStateMachine):
    """One buyer, one store with two products, every money event in random order."""

    orders = Bundle("orders")
    tabs = Bundle("tabs")  # attempts a second browser tab opened (payment pks)

    def __init__(self):
        super().__init__()
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        self.patches = pytest.MonkeyPatch()
        self.refunds_down = False  # the provider's next refund call fails (retryable)
        self.outages = 0
        real_refund = SimulatedProvider.refund

        def refund(provider, **kwargs):
            if self.refunds_down:
                self.refunds_down = False
                self.outages += 1
                raise ProviderError("The provider is unreachable (simulated outage).")
            return real_refund(provider, **kwargs)

        self.patches.setattr(SimulatedProvider, "refund", refund)
        self.buyer = UserFactory()
        self.seller = StoreFactory().owner
        self.products = [ProductFactory(store=self.seller.store, price=price, stock=INITIAL_STOCK) for price in PRICES]
        # Webhooks the provider sent, (payment pk, what it said), and which of them have arrived.
        self.sent: list[tuple[int, PaymentResult]] = []
        self.arrived: set[int] = set()
        self.checkouts: dict[str, tuple[str, str | None]] = {}  # order number: (Idempotency-Key, method)

    def teardown(self):
        self.patches.undo()
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)

    # --- helpers -----------------------------------------------------------------------------

    def order(self, number: str) -> Order:
        return Order.objects.get(number=number)

    def world(self) -> World:
        """This example's orders, their lines, payments and refunds, and the provider's books, read
        in a handful of queries."""
        orders = list(Order.objects.filter(buyer=self.buyer).prefetch_related("lines", "payments__refunds"))
        payments = [payment for order in orders for payment in order.payments.all()]
        for order in orders:
            for payment in order.payments.all():
                payment.order = order
        references = [payment.reference for payment in payments]
        books = {remote.reference: remote for remote in SimulatedPayment.objects.filter(reference__in=references)}
        return World(orders=orders, payments=payments, books=books, stock=self.stock())

    def provider_sends(self, payment: Payment) -> tuple[int, PaymentResult]:
        """The provider sends a webhook about ``payment`` saying what its books say now; it may
        arrive at once, late, out of order, or more than once."""
        remote = SimulatedPayment.objects.get(reference=payment.reference)
        result = PaymentResult(
            reference=remote.reference,
            status=remote.status,
            amount=remote.amount,
            currency=remote.currency,
            failure_code=remote.failure_code,
        )
        self.sent.append((payment.pk, result))
        return len(self.sent) - 1, result

    def deliver(self, payment: Payment, result: PaymentResult) -> None:
        """A webhook: the provider's word about one payment, applied as the webhook task does.
        Whatever arrives, late or again, never moves a payment back nor unpays an order."""
        before = Payment.objects.get(pk=payment.pk)
        status_before = self.order_status(payment)
        with request():
            payment_apply_result(payment=payment, result=result, note="webhook")
        after = Payment.objects.get(pk=payment.pk)
        assert PaymentStatus.RANK[after.status] >= PaymentStatus.RANK[before.status]
        if before.amount_received is not None:
            assert after.amount_received == before.amount_received
        assert after.settles_order >= before.settles_order
        if status_before != OrderStatus.PENDING_PAYMENT:
            assert self.order_status(payment) == status_before

    @staticmethod
    def order_status(payment: Payment) -> str:
        return Order.objects.values_list("status", flat=True).get(pk=payment.order_id)

    def stock(self) -> dict[int, int]:
        return dict(Product.objects.filter(pk__in=[p.pk for p in self.products]).values_list("pk", "stock"))

    # --- the buyer ---------------------------------------------------------------------------

    @precondition(lambda self: len(self.checkouts) < MAX_ORDERS)
    @rule(
        target=orders,
        picks=st.lists(
            st.tuples(st.integers(0, 1), st.integers(1, 3)), min_size=1, max_size=2, unique_by=lambda pick: pick[0]
        ),
        method=st.none() | METHODS,
    )
    def place(self, picks, method):
        cart_clear(user=self.buyer)
        stock = self.stock()
        for index, quantity in picks:
            product = self.products[index]
            if stock[product.pk] >= quantity:
                cart_item_add(user=self.buyer, product_slug=product.slug, quantity=quantity)
        if not self.buyer.cart.items.exists():
            return multiple()
        key = uuid.uuid4().hex
        with request():
            order = checkout_place(
                buyer=self.buyer, shipping_address=ADDRESS, payment_method=method, idempotency_key=key
            )
        self.checkouts[order.number] = (key, method)
        order.refresh_from_db()
        assert order.status == (OrderStatus.PAID if method == VISA else OrderStatus.PENDING_PAYMENT)
        payment = order.payments.get()
        assert payment.reference
        assert payment.status == {None: PaymentStatus.PENDING, VISA: PaymentStatus.SUCCEEDED}.get(
            method, PaymentStatus.FAILED
        )
        self.provider_sends(payment)
        return order.number

    @rule(number=orders)
    def checkout_retried(self, number):
        """The checkout request is sent again with its Idempotency-Key: the same order, as it stands,
        its payment resumed only where it never got an answer; never an error, never a second
        attempt on an order no longer payable."""
        key, method = self.checkouts[number]
        before = self.order(number)
        attempts = before.payments.count()
        with request():
            again = checkout_place(
                buyer=self.buyer, shipping_address=ADDRESS, payment_method=method, idempotency_key=key
            )
        assert again.number == number
        if before.status != OrderStatus.PENDING_PAYMENT or before.needs_review:
            assert before.payments.count() == attempts
            assert self.order(number).status == before.status

    @rule(number=orders, method=METHODS)
    def pay(self, number, method):
        order = self.order(number)
        if order.status != OrderStatus.PENDING_PAYMENT or order.needs_review:
            refusal = InvalidTransition if order.status != OrderStatus.PENDING_PAYMENT else PaymentUnderReview
            with pytest.raises(refusal), request():
                checkout_pay(order=order, payment_method=method)
            assert self.order(number).status == order.status
            return
        latest = order.payments.order_by("-attempt").first()
        charged_already = SimulatedPayment.objects.filter(reference=latest.reference, status__in=CHARGED).exists()
        with request():
            payment = checkout_pay(order=order, payment_method=method)
        self.provider_sends(payment)
        succeeds = method == VISA or charged_already
        assert payment.status == (PaymentStatus.SUCCEEDED if succeeds else PaymentStatus.FAILED)
        assert self.order(number).status == (OrderStatus.PAID if succeeds else OrderStatus.PENDING_PAYMENT)
        if succeeds:
            assert Payment.objects.get(pk=payment.pk).settles_order

    @rule(number=orders)
    def cancel(self, number):
        order = self.order(number)
        if order.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID):
            with pytest.raises(InvalidTransition), request():
                checkout_cancel(order=order, actor=self.buyer)
            assert self.order(number).status == order.status
            return
        with request():
            checkout_cancel(order=order, actor=self.buyer)
        order.refresh_from_db()
        assert order.status == OrderStatus.CANCELLED
        if not order.needs_review:  # every charge is being given back (sent, or left for the sweep)
            for payment in order.payments.all():
                claimed = sum(r.amount for r in payment.refunds.all() if r.status in CLAIMING)
                assert claimed == received(payment)

    @rule(target=tabs, number=orders)
    def second_tab_opens(self, number):
        """While the order waits for payment, another tab of the buyer's browser starts an attempt."""
        order = self.order(number)
        attempts = order.payments.count()
        if order.status != OrderStatus.PENDING_PAYMENT:
            with pytest.raises(InvalidTransition), request():
                payment_start(order=order)
            assert order.payments.count() == attempts
            return multiple()
        with request():
            payment = payment_start(order=order)
        assert (payment.attempt, payment.status, payment.amount) == (attempts + 1, PaymentStatus.PENDING, order.total)
        assert payment.reference
        return multiple(payment.pk)

    @rule(pk=tabs, answered=st.booleans())
    def second_tab_charges(self, pk, answered):
        """The provider charges the other tab's attempt; its answer arrives now, or is lost (then
        only a webhook or the sync tells Bazaar)."""
        self.charge(Payment.objects.get(pk=pk), answered=answered)

    @rule(number=orders, which=st.integers(0, 3), answered=st.booleans())
    def an_attempt_is_charged(self, number, which, answered):
        """Any attempt of the order is charged late (its 3-D Secure step finished in the first tab),
        whatever happened since."""
        payments = list(self.order(number).payments.order_by("attempt"))
        self.charge(payments[which % len(payments)], answered=answered)

    def charge(self, payment: Payment, *, answered: bool) -> None:
        result = get_provider().confirm(
            payment_ref=payment.reference, payment_method=VISA, idempotency_key=f"late-{uuid.uuid4().hex}"
        )
        self.provider_sends(payment)
        if not answered:
            return
        order_before = self.order_status(payment)
        self.deliver(payment, result)
        order = Order.objects.get(pk=payment.order_id)
        payment.refresh_from_db()
        if result.status != PaymentStatus.SUCCEEDED or order.needs_review:
            return
        if order_before == OrderStatus.PENDING_PAYMENT:
            assert (order.status, payment.settles_order) == (OrderStatus.PAID, True)
        elif not payment.settles_order:  # a second charge, or a charge of a cancelled order
            claimed = sum(r.amount for r in payment.refunds.all() if r.status in CLAIMING)
            assert claimed == received(payment)

    @rule(number=orders)
    def ship(self, number):
        order = self.order(number)
        if order.status == OrderStatus.PAID and not order.needs_review:
            with request():
                order_ship_lines(seller=self.seller, number=number, carrier="DHL", tracking_number="T1")
            assert self.order(number).status == OrderStatus.SHIPPED
            return
        refusal = OrderUnderReview if order.status == OrderStatus.PAID else InvalidTransition
        with pytest.raises(refusal), request():
            order_ship_lines(seller=self.seller, number=number)
        assert self.order(number).status == order.status

    @rule(number=orders, everyone=st.booleans())
    def reservation_expires(self, number, everyone):
        """The reservation of one order (or of every order) runs out and the expiry task runs: it
        cancels exactly the unpaid orders, never one flagged ``needs_review``."""
        late = Order.objects.filter(buyer=self.buyer) if everyone else Order.objects.filter(number=number)
        late.update(created_at=timezone.now() - timedelta(minutes=RESERVATION_MINUTES + 1))
        before = {order.number: order for order in Order.objects.filter(buyer=self.buyer)}
        with request():
            expired = checkout_expire()
        after = dict(Order.objects.filter(buyer=self.buyer).values_list("number", "status"))
        expected = {
            order.number
            for order in before.values()
            if order.status == OrderStatus.PENDING_PAYMENT
            and not order.needs_review
            and (everyone or order.number == number)
        }
        assert set(expired) == expected
        for order in before.values():
            assert after[order.number] == (OrderStatus.CANCELLED if order.number in expected else order.status)

    # --- the provider ------------------------------------------------------------------------

    @rule(number=orders, which=st.integers(0, 3))
    def webhook(self, number, which):
        """The provider reports one attempt of the order as its books have it now."""
        payments = list(self.order(number).payments.exclude(reference="").order_by("attempt"))
        payment = payments[which % len(payments)]
        index, result = self.provider_sends(payment)
        self.deliver(payment, result)
        self.arrived.add(index)

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def webhook_arrives_late(self, data):
        """A webhook sent earlier arrives now, after whatever happened since: for the first time
        (out of order), or again (a replay, which changes nothing)."""
        index = data.draw(st.integers(0, len(self.sent) - 1), label="webhook")
        pk, result = self.sent[index]
        payment = Payment.objects.get(pk=pk)
        before = (payment.status, self.order_status(payment), payment.amount_refunded)
        self.deliver(payment, result)
        payment.refresh_from_db()
        if index in self.arrived:
            after = (payment.status, self.order_status(payment), payment.amount_refunded)
            # Attempts still open share a rank: a stale "pending" may follow a decline again.
            assert after == before or {after[0], before[0]} <= set(OPEN), (before, after)
        self.arrived.add(index)

    @rule(number=orders, which=st.integers(0, 3), difference=st.sampled_from([Decimal("-1.00"), Decimal("0.01")]))
    def provider_takes_another_amount(self, number, which, difference):
        """The provider charges an attempt for an amount that is not the order's (its amount was
        changed at the provider) and says so: staff must look; nothing is paid nor refunded by itself."""
        order = self.order(number)
        payments = list(order.payments.exclude(reference="").order_by("attempt"))
        payment = payments[which % len(payments)]
        if not SimulatedPayment.objects.filter(reference=payment.reference, status__in=OPEN).exists():
            return
        SimulatedPayment.objects.filter(reference=payment.reference).update(amount=F("amount") + difference)
        result = get_provider().confirm(
            payment_ref=payment.reference, payment_method=VISA, idempotency_key=f"edited-{uuid.uuid4().hex}"
        )
        assert result.amount == payment.amount + difference
        index, result = self.provider_sends(payment)
        self.deliver(payment, result)
        self.arrived.add(index)
        if order.status == OrderStatus.PENDING_PAYMENT:
            order.refresh_from_db()
            assert (order.status, order.needs_review) == (OrderStatus.PENDING_PAYMENT, True)
            assert Payment.objects.get(pk=payment.pk).refunds.count() == 0

    @precondition(lambda self: not self.refunds_down)
    @rule()
    def provider_refunds_down(self):
        """The provider's next refund call fails (a timeout): the refund stays recorded for the sweep."""
        self.refunds_down = True

    # --- background tasks --------------------------------------------------------------------

    @precondition(lambda self: self.checkouts)
    @rule()
    def sync(self):
        with request():
            payments_sync()
        world = self.world()
        for payment in world.payments:  # no charge the provider made is unknown to Bazaar after a sync
            if world.books[payment.reference].status in CHARGED:
                assert payment.status not in OPEN

    @precondition(lambda self: self.checkouts)
    @rule()
    def refund_sweep(self):
        outages = self.outages
        with request():
            payments_refund_due()
        if self.outages == outages:
            self.check_money_given_back(self.world())

    @precondition(lambda self: self.checkouts)
    @rule()
    def reconcile(self):
        """The periodic task: sync, then sweep. Afterwards the provider's books agree: it holds
        money only for the payment that settles a live order, or for orders staff must review."""
        outages = self.outages
        with request():
            payments_sync()
            payments_refund_due()
        if self.outages != outages:
            return
        world = self.world()
        self.check_money_given_back(world)
        for payment in world.payments:
            remote = world.books[payment.reference]
            holds = remote.status in CHARGED and remote.amount > remote.amount_refunded
            if holds and not payment.order.needs_review:
                assert payment.settles_order
                assert payment.order.status in SETTLED

    @staticmethod
    def check_money_given_back(world: World):
        """After a sweep that met no outage: no charge of a cancelled order, and no second charge
        of a paid one, still holds money (flagged orders wait for staff)."""
        for order in world.orders:
            if order.needs_review:
                continue
            for payment in order.payments.all():
                if received(payment) == 0:
                    continue
                if order.status == OrderStatus.CANCELLED or not payment.settles_order:
                    assert payment.amount_refunded == received(payment), (order.status, payment.attempt)
                    assert payment.status == PaymentStatus.REFUNDED

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def money_adds_up(self):
        """After every step, on one read of the world."""
        world = self.world()
        self.refunds_never_exceed_what_was_received(world)
        self.bazaars_books_agree_with_the_providers(world)
        self.orders_and_payments_agree(world)
        self.stock_is_what_live_orders_do_not_hold(world)
        self.the_ledger_agrees(world)

    @staticmethod
    def refunds_never_exceed_what_was_received(world: World):
        for payment in world.payments:
            refunds = list(payment.refunds.all())
            claimed = sum((r.amount for r in refunds if r.status in CLAIMING), ZERO)
            succeeded = sum((r.amount for r in refunds if r.status == RefundStatus.SUCCEEDED), ZERO)
            assert claimed <= received(payment)
            assert payment.amount_refunded <= received(payment)
            assert payment.amount_refunded == succeeded

    @staticmethod
    def bazaars_books_agree_with_the_providers(world: World):
        for payment in world.payments:
            remote = world.books[payment.reference]
            assert payment.amount_refunded == remote.amount_refunded
            if payment.amount_received is not None:
                assert remote.status in CHARGED
                assert payment.amount_received == remote.amount

    @staticmethod
    def orders_and_payments_agree(world: World):
        for order in world.orders:
            payments = list(order.payments.all())
            settling = [payment for payment in payments if payment.settles_order]
            if order.status in SETTLED:
                assert len(settling) == 1, (order.status, [(p.attempt, p.status) for p in payments])
                assert received(settling[0]) > 0
            if order.status == OrderStatus.PENDING_PAYMENT:
                assert settling == []
                if not order.needs_review:
                    assert all(payment.amount_received is None for payment in payments)
            if order.status != OrderStatus.CANCELLED:
                for payment in settling:
                    assert payment.status == PaymentStatus.SUCCEEDED
                    assert payment.amount_refunded == 0
                    assert [r for r in payment.refunds.all() if r.status in CLAIMING] == []

    @staticmethod
    def the_ledger_agrees(world: World):
        """Each order's entries sum to zero; what the buyers' account gave is what the payments
        received minus what they refunded; what sellers and the platform hold of a paid order is
        its store orders' totals minus their refunds."""
        for order in world.orders:
            rows = list(LedgerEntry.objects.filter(order=order))
            assert sum((entry.amount for entry in rows), ZERO) == 0
            payments = list(order.payments.all())
            kept = sum((received(p) - p.amount_refunded for p in payments if p.amount_received is not None), ZERO)
            assert -sum((entry.amount for entry in rows if entry.account == Account.BUYER), ZERO) == kept
            held = sum((e.amount for e in rows if e.account in (Account.PAYABLE, Account.COMMISSION)), ZERO)
            if any(payment.settles_order for payment in payments):
                store_orders = list(order.store_orders.all())
                assert held == sum((so.total - so.refunded_total for so in store_orders), ZERO)
            else:
                assert held == 0

    @staticmethod
    def stock_is_what_live_orders_do_not_hold(world: World):
        held = dict.fromkeys(world.stock, 0)
        for order in world.orders:
            if order.status != OrderStatus.CANCELLED:
                for line in order.lines.all():
                    assert line.status != LineStatus.CANCELLED
                    held[line.product_id] += line.quantity
        for product_id, left in world.stock.items():
            assert left >= 0
            assert left + held[product_id] == INITIAL_STOCK


MACHINE_SETTINGS = settings(
    max_examples=40,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture
def money_world(settings):
    settings.SHIPPING_FLAT_RATE = SHIPPING
    settings.ORDER_RESERVATION_MINUTES = RESERVATION_MINUTES
    settings.PAYMENT_PROVIDER = "simulated"


@pytest.mark.django_db
def test_money_machine(money_world):
    run_state_machine_as_test(MoneyMachine, settings=MACHINE_SETTINGS)
