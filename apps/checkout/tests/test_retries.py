"""Checkout and pay on every retry (API.md, "Retries and failures, precisely"): the audit's
findings 1, 2, 5, 8, 11 and 13, each as the request a client makes."""

import runpy
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone

from apps.cart.models import CartItem
from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory
from apps.checkout import apis as checkout_apis
from apps.checkout.services import checkout_cancel
from apps.core.idempotency import LOCK_SECONDS
from apps.core.models import IdempotencyKey
from apps.orders.models import Order, OrderStatus
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.models import Payment, SimulatedPayment
from apps.payments.providers.simulated import SimulatedProvider
from apps.payments.tests.stripe_standin import stripe_standin_fixture  # noqa: F401 (registers the fixture)

pytestmark = pytest.mark.django_db


def checkout(client, *, key=None, **body):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/checkout/", {"shipping_address": ADDRESS, **body}, format="json", **headers)


def pay(client, number, *, key=None, method="pm_card_visa"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"/api/v1/orders/{number}/pay/", {"payment_method": method}, format="json", **headers)


def age(*, key: str, hours: int) -> None:
    """Make the key (its claim and the order it made) ``hours`` old."""
    then = timezone.now() - timedelta(hours=hours)
    IdempotencyKey.objects.filter(key=key).update(created_at=then)
    Order.objects.filter(idempotency_key=key).update(created_at=then)


# --- finding 1: a reused checkout key returned an old order forever ----------------------------


def test_a_checkout_key_is_a_new_request_after_its_24_hours(buyer, client_for):
    client = client_for(buyer)
    mug, pen = ProductFactory(stock=5), ProductFactory(stock=5)
    fill_cart(buyer, (mug, 1))
    first = checkout(client, key="k-1", payment_method="pm_card_visa").json()
    age(key="k-1", hours=25)
    fill_cart(buyer, (pen, 2))

    response = checkout(client, key="k-1", payment_method="pm_card_visa")

    assert response.status_code == 201, response.json()
    second = response.json()
    assert second["number"] != first["number"]
    assert [item["product_slug"] for item in second["items"]] == [pen.slug]
    assert second["status"] == "paid"
    assert not CartItem.objects.filter(cart__user=buyer).exists()
    old = Order.objects.get(number=first["number"])
    assert list(old.payments.values_list("attempt", "status")) == [(1, "succeeded")]  # no second attempt
    assert SimulatedPayment.objects.count() == 2
    assert Product.objects.get(pk=pen.pk).stock == 3


def test_a_key_replayed_within_its_24_hours_answers_the_first_order(buyer, client_for):
    client = client_for(buyer)
    fill_cart(buyer, (ProductFactory(stock=5), 1))
    first = checkout(client, key="k-1", payment_method="pm_card_visa")
    age(key="k-1", hours=23)

    again = checkout(client, key="k-1", payment_method="pm_card_visa")

    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert again.json() == first.json()
    assert Order.objects.count() == 1


def test_the_same_key_with_another_body_is_a_conflict_even_after_a_crash(buyer, client_for):
    """The first request died after placing the order (its claim released with the 500): the key
    is still bound to that order's request, so another body under it is refused."""
    client = client_for(buyer)
    fill_cart(buyer, (ProductFactory(stock=5), 1))
    checkout(client, key="k-1")
    IdempotencyKey.objects.filter(key="k-1").delete()

    response = checkout(client, key="k-1", payment_method="pm_card_visa")

    assert (response.status_code, response.json()["code"]) == (409, "idempotency_conflict")
    assert Order.objects.count() == 1
    assert list(Payment.objects.values_list("status", flat=True)) == ["pending"]


# --- finding 2: a checkout retried after a crash answered 409 and stored it --------------------


def test_a_checkout_that_paid_then_died_answers_its_order_on_retry(buyer, client_for):
    client = client_for(buyer)
    mug = ProductFactory(stock=5)
    fill_cart(buyer, (mug, 2))
    with (
        mock.patch.object(checkout_apis, "_detail", side_effect=RuntimeError("worker died")),
        pytest.raises(RuntimeError),
    ):
        checkout(client, key="k-1", payment_method="pm_card_visa")
    (order,) = Order.objects.all()
    assert order.status == OrderStatus.PAID  # the first request paid, then died before answering

    retried = checkout(client, key="k-1", payment_method="pm_card_visa")

    assert retried.status_code == 201, retried.json()
    assert (retried.json()["number"], retried.json()["status"]) == (order.number, "paid")
    assert list(Payment.objects.values_list("attempt", "status")) == [(1, "succeeded")]
    replayed = checkout(client, key="k-1", payment_method="pm_card_visa")
    assert (replayed.status_code, replayed["Idempotent-Replayed"]) == (201, "true")
    assert replayed.json() == retried.json()
    assert Product.objects.get(pk=mug.pk).stock == 3


def test_a_checkout_killed_before_paying_pays_on_retry_once(buyer, client_for):
    """The worker was killed after the order committed and before the provider was asked: the
    claim is taken over after LOCK_SECONDS and the retry finishes the payment, once."""
    client = client_for(buyer)
    fill_cart(buyer, (ProductFactory(stock=5), 1))
    with (
        mock.patch.object(checkout_apis.services, "_checkout_payment"),
        mock.patch.object(checkout_apis, "_detail", side_effect=SystemExit),
        pytest.raises(SystemExit),
    ):
        checkout(client, key="k-1", payment_method="pm_card_visa")
    claim = IdempotencyKey.objects.get(key="k-1")
    assert claim.status_code is None  # no answer was stored
    IdempotencyKey.objects.filter(pk=claim.pk).update(
        locked_until=timezone.now() - timedelta(seconds=1), created_at=timezone.now() - timedelta(seconds=LOCK_SECONDS)
    )

    retried = checkout(client, key="k-1", payment_method="pm_card_visa")

    assert retried.status_code == 201, retried.json()
    assert retried.json()["status"] == "paid"
    assert list(Payment.objects.values_list("attempt", "status")) == [(1, "succeeded")]


def test_a_retry_of_a_declined_checkout_answers_it_as_it_stands(buyer, client_for):
    client = client_for(buyer)
    fill_cart(buyer, (ProductFactory(stock=5), 1))
    with (
        mock.patch.object(checkout_apis, "_detail", side_effect=RuntimeError("worker died")),
        pytest.raises(RuntimeError),
    ):
        checkout(client, key="k-1", payment_method="pm_card_chargeDeclined")

    retried = checkout(client, key="k-1", payment_method="pm_card_chargeDeclined")

    assert retried.status_code == 201
    assert (retried.json()["status"], retried.json()["payment"]["status"]) == ("pending_payment", "failed")
    assert Payment.objects.count() == 1  # not a second attempt


# --- finding 5: pay answered 200 with a cancelled order ----------------------------------------


def test_pay_on_an_order_cancelled_during_the_charge_is_409_and_refunded(buyer, client_for, mug_order):
    client, number = mug_order
    real_confirm = SimulatedProvider.confirm

    def confirm_while_the_buyer_cancels(self, **kwargs):
        checkout_cancel(order=Order.objects.get(number=number), actor=buyer)  # lands during the charge
        return real_confirm(self, **kwargs)

    with mock.patch.object(SimulatedProvider, "confirm", confirm_while_the_buyer_cancels):
        response = pay(client, number, key="pay-1")

    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    order = Order.objects.get(number=number)
    assert order.status == OrderStatus.CANCELLED
    (payment,) = order.payments.all()
    assert (payment.status, payment.amount_received, payment.amount_refunded) == (
        "refunded",
        Decimal("25.00"),
        Decimal("25.00"),
    )
    assert SimulatedPayment.objects.get().status == "refunded"
    replayed = pay(client, number, key="pay-1")
    assert (replayed.status_code, replayed["Idempotent-Replayed"]) == (409, "true")


def test_pay_on_an_order_expired_during_the_charge_is_409_and_charges_nothing(settings, client_for, mug_order):
    from apps.checkout.services import checkout_expire

    client, number = mug_order
    real_confirm = SimulatedProvider.confirm

    def confirm_while_it_expires(self, **kwargs):
        Order.objects.filter(number=number).update(created_at=timezone.now() - timedelta(hours=1))
        assert checkout_expire() == [number]
        return real_confirm(self, **kwargs)

    with mock.patch.object(SimulatedProvider, "confirm", confirm_while_it_expires):
        response = pay(client, number)

    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    # Expiry cancelled the attempt with the provider first, so the charge never went through.
    assert (Payment.objects.get().status, SimulatedPayment.objects.get().status) == ("cancelled", "cancelled")


@pytest.fixture
def mug_order(buyer, client_for):
    """A pending_payment order for 2 mugs (25.00) with an open attempt, and the buyer's client."""
    client = client_for(buyer)
    fill_cart(buyer, (ProductFactory(price=Decimal("12.50"), stock=5), 2))
    response = checkout(client)
    assert response.status_code == 201
    return client, response.json()["number"]


# --- finding 8: checkout answered 400 after the order existed ----------------------------------


def test_an_unknown_payment_method_at_checkout_answers_the_order_with_a_failed_attempt(
    stripe_standin, buyer, client_for
):
    client = client_for(buyer)
    fill_cart(buyer, (ProductFactory(stock=5), 1))

    response = checkout(client, payment_method="pm_card_doesNotExist")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["payment"]["status"]) == ("pending_payment", "failed")
    assert body["payment"]["failure_code"] == "invalid_payment_method"
    assert pay(client, body["number"]).json()["status"] == "paid"  # payable again with a good method


def test_a_malformed_payment_method_is_400_before_anything_changes(stripe_standin, buyer, client_for):
    client = client_for(buyer)
    product = ProductFactory(stock=5)
    fill_cart(buyer, (product, 1))

    response = checkout(client, payment_method="4242424242424242")

    assert (response.status_code, response.json()["code"]) == (400, "invalid_payment_method")
    assert not Order.objects.exists()
    assert Product.objects.get(pk=product.pk).stock == 5


# --- finding 11: totals the provider cannot charge ---------------------------------------------


@pytest.mark.parametrize(("price", "quantity"), [("0.49", 1), ("999999.99", 2)], ids=["below-0.50", "above-max"])
def test_a_total_the_provider_cannot_charge_is_refused_before_anything_changes(buyer, client_for, price, quantity):
    client = client_for(buyer)
    product = ProductFactory(price=Decimal(price), stock=5)
    fill_cart(buyer, (product, quantity))

    response = checkout(client, payment_method="pm_card_visa")

    assert response.status_code == 409
    assert response.json()["code"] == "amount_out_of_range"
    assert (response.json()["min_amount"], response.json()["max_amount"]) == ("0.50", "999999.99")
    assert not Order.objects.exists()
    assert Product.objects.get(pk=product.pk).stock == 5
    assert CartItem.objects.filter(cart__user=buyer).count() == 1


def test_shipping_counts_towards_the_chargeable_total(settings, buyer, client_for):
    settings.SHIPPING_FLAT_RATE = Decimal("0.20")
    fill_cart(buyer, (ProductFactory(price=Decimal("0.30"), stock=5), 1))

    response = checkout(client_for(buyer), payment_method="pm_card_visa")

    assert response.status_code == 201, response.json()
    assert (response.json()["total"], response.json()["status"]) == ("0.50", "paid")


def test_paying_an_older_order_the_provider_cannot_charge_is_409_not_503(buyer, client_for, mug_order):
    client, number = mug_order
    Order.objects.filter(number=number).update(total=Decimal("0.20"))

    response = pay(client, number)

    assert (response.status_code, response.json()["code"]) == (409, "amount_out_of_range")


# --- finding 13: a slow provider must not outlast the worker -----------------------------------


def test_the_provider_budget_stays_below_the_worker_timeout_and_the_claim_takeover(settings):
    from apps.payments.providers.stripe_provider import NETWORK_RETRIES, TIMEOUT_SECONDS

    worker_timeout = runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py"))["timeout"]
    assert settings.PAYMENT_PROVIDER_BUDGET_SECONDS < worker_timeout < LOCK_SECONDS
    assert sum(TIMEOUT_SECONDS) <= settings.PAYMENT_PROVIDER_BUDGET_SECONDS
    assert NETWORK_RETRIES >= 1  # retries stay, inside the budget


def test_a_slow_stripe_leaves_the_payment_pending_within_the_budget_and_sync_finishes_it(
    settings, stripe_standin, buyer, client_for
):
    from apps.payments.services import payments_sync

    settings.PAYMENT_PROVIDER_BUDGET_SECONDS = 1.0
    client = client_for(buyer)
    fill_cart(buyer, (ProductFactory(price=Decimal("12.50"), stock=5), 2))
    number = checkout(client).json()["number"]
    (intent,) = stripe_standin.intents
    stripe_standin.slow_next(1, seconds=2.0)  # the confirm: Stripe charges, the answer comes too late

    response = pay(client, number, key="pay-1")

    assert (response.status_code, response.json()["code"]) == (503, "payment_provider_unavailable")
    confirms = stripe_standin.requests_to("POST", f"/v1/payment_intents/{intent}/confirm")
    assert len(confirms) == 1  # no retry once the request's budget is spent
    assert Payment.objects.get().status == "pending"
    stripe_standin_wait_until_charged(stripe_standin, intent)

    assert payments_sync() == 1  # outside a request: no budget

    assert Order.objects.get(number=number).status == OrderStatus.PAID
    assert stripe_standin.intents[intent]["amount_received"] == 2500


def stripe_standin_wait_until_charged(standin, intent: str) -> None:
    for _ in range(100):
        if standin.intents[intent]["status"] == "succeeded":
            return
        time.sleep(0.05)
    raise AssertionError("the stand-in never finished the slow confirm")
