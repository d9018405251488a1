"""The marketplace machine (issue 13): a state machine over orders from one to three stores drives
payment, shipping, delivery, partial refunds of lines (replayed with their Idempotency-Key),
returns, refunds made in the provider's dashboard (their webhook replayed), sellers finishing
their payout onboarding, time passing, payout runs (run twice, and with the provider's answer
lost) in random order. After every step it checks what must always hold:

- each order's ledger entries sum to zero;
- no payment has more refunded than it received, and Bazaar's refunded amounts are its
  succeeded refunds;
- what a store was transferred, net of reversals, is never more than its net from captured
  payments minus refunds (seller net of each paid store order, less the seller's share of what
  was refunded), and the provider's books say the same as the ledger;
- a store's balance endpoint says what the store's ledger entries sum to;
- every provider call that moves money (refund, transfer, reversal) carries an idempotency key,
  and a key is never sent again with other parameters; each store order is transferred once.

Each example runs in a savepoint rolled back at its end; each rule is one request or task whose
on-commit work (refunds sent, reversals queued, mails) runs when it ends.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Sum
from django.test import TestCase
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from apps.accounts.tests.factories import StoreFactory, UserFactory
from apps.cart.services import cart_clear, cart_item_add
from apps.catalog.tests.factories import ProductFactory
from apps.checkout.services import checkout_place, checkout_review_accept
from apps.core.exceptions import NotFound
from apps.ledger.models import Account, LedgerEntry
from apps.orders.exceptions import InvalidTransition, OrderUnderReview
from apps.orders.models import Order, OrderLine, OrderStatus, StoreOrder
from apps.orders.services import order_confirm_delivery, order_ship_lines
from apps.orders.tests.factories import ADDRESS
from apps.payments.exceptions import RefundExceeds
from apps.payments.models import ConnectAccount, Payment, SimulatedPayment, SimulatedTransfer
from apps.payments.providers.base import ProviderError, RefundStatus
from apps.payments.providers.simulated import SimulatedProvider
from apps.payments.services import payment_outside_refund
from apps.payouts.models import Transfer, TransferStatus
from apps.payouts.services import payouts_release
from apps.payouts.tests.factories import connect
from apps.returns.exceptions import ReturnExceeds, ReturnNotDelivered, ReturnWindowClosed
from apps.returns.models import ReturnRequest
from apps.returns.returns import return_approve, return_receive, return_reject, return_request

ZERO = Decimal("0.00")
PRICES = (Decimal("12.50"), Decimal("3.33"), Decimal("0.99"))  # one product per store
SHIPPING = Decimal("4.99")
COMMISSION = Decimal("12.50")  # percent: odd cents on every line
MAX_ORDERS = 3
SETTLED = (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED)


@contextmanager
def request():
    """One request or task: what it scheduled on commit runs when it ends, as after a real commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield


def sums(rows, key, value="amount"):
    totals: dict = defaultdict(lambda: ZERO)
    for row in rows:
        totals[key(row)] += getattr(row, value)
    return totals


class MarketplaceMachine(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self):
        super().__init__()
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        self.patches = pytest.MonkeyPatch()
        self.calls: dict[tuple[str, str], list[dict]] = defaultdict(list)  # (method, key): parameters sent
        self.lose_next_transfer_answer = False
        for name in ("refund", "transfer_create", "transfer_reverse"):
            self._spy(name)
        self.buyer = UserFactory()
        self.stores = [StoreFactory(commission_rate=COMMISSION) for _ in PRICES]
        self.products = [
            ProductFactory(store=store, price=price, stock=1000)
            for store, price in zip(self.stores, PRICES, strict=True)
        ]
        self.staff = UserFactory(is_staff=True)
        for store in self.stores[:2]:  # the third onboards when the machine says so
            connect(store)
        self.days = 0  # how far the payout runs look ahead of the wall clock
        self.refund_requests: list[tuple[APIClient, str, dict, str, dict]] = []

    def _spy(self, name: str) -> None:
        real = getattr(SimulatedProvider, name)

        def spy(provider, **kwargs):
            assert kwargs.get("idempotency_key"), name
            self.calls[(name, kwargs["idempotency_key"])].append(dict(kwargs))
            result = real(provider, **kwargs)
            if name == "transfer_create" and self.lose_next_transfer_answer:
                self.lose_next_transfer_answer = False
                raise ProviderError("The answer was lost on the way back (simulated).")
            return result

        self.patches.setattr(SimulatedProvider, name, spy)

    def teardown(self):
        cache.clear()  # the throttle counters of this example's requests
        self.patches.undo()
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)

    def order(self, number: str) -> Order:
        return Order.objects.get(number=number)

    def client(self, user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    # --- buying, shipping, delivery ------------------------------------------------------------

    @precondition(lambda self: Order.objects.filter(buyer=self.buyer).count() < MAX_ORDERS)
    @rule(
        target=orders,
        picks=st.lists(
            st.tuples(st.integers(0, 2), st.integers(1, 3)), min_size=1, max_size=3, unique_by=lambda pick: pick[0]
        ),
    )
    def place(self, picks):
        cart_clear(user=self.buyer)
        for index, quantity in picks:
            cart_item_add(user=self.buyer, product_slug=self.products[index].slug, quantity=quantity)
        with request():
            order = checkout_place(buyer=self.buyer, shipping_address=ADDRESS, payment_method="pm_card_visa")
        assert self.order(order.number).status == OrderStatus.PAID
        return order.number

    @rule(number=orders, pick=st.integers(0, 3))
    def ship(self, number, pick):
        """A seller ships its part (pick 3: a seller with no part in the order tries)."""
        before = self.order(number)
        in_order = [so.store.owner for so in before.store_orders.select_related("store__owner")]
        seller = in_order[pick % len(in_order)] if pick < 3 else UserFactory()
        try:
            with request():
                order_ship_lines(seller=seller, number=number)
        except (InvalidTransition, OrderUnderReview, NotFound, PermissionDenied):
            assert self.order(number).status == before.status

    @rule(number=orders)
    def fulfil(self, number):
        """Every seller ships its part and the buyer confirms delivery (several requests)."""
        for store_order in self.order(number).store_orders.select_related("store__owner"):
            try:
                with request():
                    order_ship_lines(seller=store_order.store.owner, number=number)
            except (InvalidTransition, OrderUnderReview):
                pass
        self.deliver(number=number)

    @rule(number=orders)
    def deliver(self, number):
        order = self.order(number)
        try:
            with request():
                order_confirm_delivery(order=order, actor=self.buyer)
        except InvalidTransition:
            assert self.order(number).status == order.status

    # --- refunds -------------------------------------------------------------------------------

    @rule(
        number=orders,
        pick=st.integers(0, 10),
        quantity=st.integers(1, 3),
        shipping=st.booleans(),
        restock=st.booleans(),
    )
    def seller_refunds(self, number, pick, quantity, shipping, restock):
        order = self.order(number)
        store_orders = list(order.store_orders.select_related("store__owner"))
        store_order = store_orders[pick % len(store_orders)]
        lines = list(store_order.lines.all())
        line = lines[pick % len(lines)]
        body = {"lines": [{"id": line.pk, "quantity": quantity}], "shipping": shipping, "restock": restock}
        body["reason"] = "machine"
        client, key = self.client(store_order.store.owner), uuid.uuid4().hex
        path = f"/api/v1/seller/orders/{number}/refunds/"
        entries = LedgerEntry.objects.count()
        refunded, stock = OrderLine.objects.get(pk=line.pk).refunded_quantity, line.variant.stock
        with request():
            response = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        if response.status_code == 201:
            self.refund_requests.append((client, path, body, key, response.json()))
            assert OrderLine.objects.get(pk=line.pk).refunded_quantity == refunded + quantity
            line.variant.refresh_from_db()
            assert line.variant.stock == stock + (quantity if restock else 0)
        else:
            assert response.status_code == 409, response.content
            assert response.json()["code"] in ("refund_exceeds", "invalid_transition")
            assert LedgerEntry.objects.count() == entries
            assert OrderLine.objects.get(pk=line.pk).refunded_quantity == refunded

    @precondition(lambda self: self.refund_requests)
    @rule(which=st.integers(0, 10))
    def seller_refund_retried(self, which):
        """The same request again with its Idempotency-Key: the first refund's answer, nothing more."""
        client, path, body, key, first = self.refund_requests[which % len(self.refund_requests)]
        entries, stock = LedgerEntry.objects.count(), {p.pk: p.variants.get().stock for p in self.products}
        with request():
            again = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert again.status_code == 201
        assert again.json()["id"] == first["id"]
        assert LedgerEntry.objects.count() == entries
        assert {p.pk: p.variants.get().stock for p in self.products} == stock

    @rule(number=orders, pick=st.integers(0, 10), quantity=st.integers(1, 2))
    def buyer_asks_a_return(self, number, pick, quantity):
        lines = list(OrderLine.objects.filter(order__number=number).order_by("pk"))
        line = lines[pick % len(lines)]
        try:
            with request():
                return_request(buyer=self.buyer, number=number, lines=[(line.pk, quantity)], reason="machine")
        except (ReturnExceeds, ReturnNotDelivered, ReturnWindowClosed, ValidationError):
            pass

    @precondition(lambda self: ReturnRequest.objects.filter(status__in=("requested", "approved")).exists())
    @rule(
        action=st.sampled_from(["next", "next", "next", "approve", "reject", "receive"]),
        restock=st.booleans(),
        pick=st.integers(0, 10),
    )
    def seller_handles_a_return(self, action, restock, pick):
        """Mostly the next step (approve a request, receive what was approved), sometimes any."""
        returns = list(ReturnRequest.objects.filter(status__in=("requested", "approved")).order_by("pk"))
        chosen = returns[pick % len(returns)]
        if action == "next":
            action = "approve" if chosen.status == "requested" else "receive"
        seller = chosen.store_order.store.owner
        handlers = {
            "approve": lambda: return_approve(seller=seller, return_id=chosen.pk),
            "reject": lambda: return_reject(seller=seller, return_id=chosen.pk, note="no"),
            "receive": lambda: return_receive(seller=seller, return_id=chosen.pk, restock=restock),
        }
        try:
            with request():
                handlers[action]()
        except (InvalidTransition, RefundExceeds):  # RefundExceeds: the seller refunded those units meanwhile
            assert ReturnRequest.objects.get(pk=chosen.pk).status == chosen.status

    @rule(number=orders, cents=st.integers(1, 2000), replays=st.integers(1, 2))
    def refunded_in_the_providers_dashboard(self, number, cents, replays):
        """Someone refunds part of the charge at the provider; its charge.refunded event (the
        cumulative amount) arrives, perhaps twice."""
        payment = Payment.objects.filter(order__number=number, settles_order=True).first()
        remote = SimulatedPayment.objects.get(reference=payment.reference)
        amount = min(Decimal(cents) / 100, remote.amount - remote.amount_refunded)
        if amount <= 0:
            return
        SimulatedPayment.objects.filter(pk=remote.pk).update(amount_refunded=F("amount_refunded") + amount)
        total = remote.amount_refunded + amount
        for _ in range(replays):
            with request():
                payment_outside_refund(payment=payment, refunded_total=total, key=f"sim-{payment.reference}-{total}")

    @rule(number=orders)
    def staff_settle_the_review(self, number):
        """Staff looked at an order under review and accept it as it is (its payouts resume)."""
        try:
            with request():
                checkout_review_accept(order=self.order(number), staff=self.staff)
        except InvalidTransition:
            assert not self.order(number).needs_review

    # --- payouts -------------------------------------------------------------------------------

    @rule(store=st.integers(0, 2))
    def seller_finishes_onboarding(self, store):
        if not ConnectAccount.objects.filter(store=self.stores[store]).exists():
            connect(self.stores[store])

    @rule(days=st.sampled_from([0, 8]), twice=st.booleans(), lose_answer=st.booleans())
    def payout_run(self, days, twice, lose_answer):
        """A payout run, after ``days`` more have passed (8: beyond the hold of what was delivered);
        sometimes twice, sometimes with the provider's answer to a transfer lost."""
        self.days += days
        self.lose_next_transfer_answer = lose_answer
        now = timezone.now() + timedelta(days=self.days)
        for _ in range(2 if twice else 1):
            with request():
                payouts_release(now=now)
        self.lose_next_transfer_answer = False

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def the_books_hold(self):
        entries = list(LedgerEntry.objects.all())
        for order_id, total in sums(entries, lambda entry: entry.order_id).items():
            assert total == 0, order_id
        self.refunds_never_exceed_what_was_received()
        self.sellers_get_no_more_than_their_net(entries)
        self.provider_calls_are_keyed()

    @staticmethod
    def refunds_never_exceed_what_was_received():
        for payment in Payment.objects.prefetch_related("refunds"):
            received = payment.amount_received or ZERO
            succeeded = sum((r.amount for r in payment.refunds.all() if r.status == RefundStatus.SUCCEEDED), ZERO)
            assert payment.amount_refunded == succeeded <= received
            claimed = sum((r.amount for r in payment.refunds.all() if r.status != RefundStatus.FAILED), ZERO)
            assert claimed <= received

    def sellers_get_no_more_than_their_net(self, entries):
        paid = StoreOrder.objects.filter(order__payments__settles_order=True)
        for store in self.stores:
            mine = [entry for entry in entries if entry.store_id == store.pk]
            transferred = sum((e.amount for e in mine if e.account == Account.PAYOUTS), ZERO)
            payable = sum((e.amount for e in mine if e.account == Account.PAYABLE), ZERO)
            net = sum(
                (
                    so.total - so.commission - (so.refunded_items + so.refunded_shipping - so.refunded_commission)
                    for so in paid.filter(store=store)
                ),
                ZERO,
            )
            assert transferred <= net, store.slug
            assert payable + transferred == net, store.slug  # every cent of the net is held or sent
            account = ConnectAccount.objects.filter(store=store).first()
            if account is not None:  # the provider's books: what it moved, Bazaar recorded or is about to
                books = list(SimulatedTransfer.objects.filter(destination=account.reference))
                at_seller = sum((t.amount - t.amount_reversed for t in books), ZERO)
                unrecorded = Transfer.objects.filter(status=TransferStatus.PENDING, store=store)
                answer_lost = {t.idempotency_key for t in unrecorded}
                assert at_seller == transferred + sum((t.amount for t in books if t.key in answer_lost), ZERO)
                assert at_seller <= net, store.slug
            response = self.client(store.owner).get("/api/v1/users/me/store/balance/")
            assert response.status_code == 200, response.content
            balance = response.json()
            assert Decimal(balance["pending"]) + Decimal(balance["available"]) == payable, store.slug
            assert Decimal(balance["transferred"]) == transferred, store.slug

    def provider_calls_are_keyed(self):
        for (name, key), calls in self.calls.items():
            assert all(call == calls[0] for call in calls), (name, key)  # a key is never reused otherwise
        transfers = SimulatedTransfer.objects.values("transfer_group", "destination").annotate(n=Sum(1))
        assert all(row["n"] == 1 for row in transfers)  # each store order is transferred once


MACHINE_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture
def marketplace(settings):
    settings.SHIPPING_FLAT_RATE = SHIPPING
    settings.PAYMENT_PROVIDER = "simulated"


@pytest.mark.django_db
def test_marketplace_machine(marketplace):
    run_state_machine_as_test(MarketplaceMachine, settings=MACHINE_SETTINGS)
