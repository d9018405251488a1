"""Faults injected into checkout and payment: the database dropping mid-request, Redis down, the
payment provider timing out. Each answers a clean, retryable error (or works, uncached), leaves
nothing half-written, and a retry ends with exactly one order and at most one charge."""

from decimal import Decimal
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError

from apps.cart.models import CartItem
from apps.catalog.models import Product
from apps.core.models import IdempotencyKey
from apps.orders.models import Order, OrderEvent, OrderLine
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.models import Payment, SimulatedPayment
from apps.payments.providers.base import ProviderError
from apps.payments.providers.simulated import SimulatedProvider
from apps.payments.tests.stripe_standin import stripe_standin_fixture  # noqa: F401 (registers the fixture)

PROVIDER_DOWN = {
    "detail": "The payment provider is unavailable; the order is kept and can be paid later.",
    "code": "payment_provider_unavailable",
}


def checkout(client, key="checkout-1", **body):
    return client.post(
        "/api/v1/checkout/", {"shipping_address": ADDRESS, **body}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def pay(client, number, key, payment_method="pm_card_visa"):
    return client.post(
        f"/api/v1/orders/{number}/pay/", {"payment_method": payment_method}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


# --- the database dropping mid-request --------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # real transactions: what the failed request wrote is rolled back for real
@pytest.mark.parametrize(
    ("manager", "method"),
    [
        (OrderLine.objects, "bulk_create"),  # after the stock update and the order insert
        (OrderEvent.objects, "create"),  # the last statement: after the cart was emptied
    ],
)
@pytest.mark.parametrize(
    "error",
    [OperationalError("server closed the connection unexpectedly"), InterfaceError("connection already closed")],
)
def test_the_database_dropping_mid_checkout_is_503_and_leaves_nothing_half_written(
    buyer, buyer_client, mug, manager, method, error
):
    fill_cart(buyer, (mug, 2))

    with mock.patch.object(manager, method, side_effect=error):
        response = checkout(buyer_client)

    assert response.status_code == 503
    assert response.json() == {
        "detail": "The service is temporarily unavailable; try again shortly.",
        "code": "database_unavailable",
    }
    assert response["Retry-After"] == "5"
    assert Product.objects.get(pk=mug.pk).stock == 5
    assert list(CartItem.objects.filter(cart__user=buyer).values_list("product_id", "quantity")) == [(mug.pk, 2)]
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert not Payment.objects.exists()
    assert not IdempotencyKey.objects.exists()  # the claim is released: the retry is not "in progress"

    retried = checkout(buyer_client)  # the database is back; the client retries with the same key

    assert retried.status_code == 201, retried.json()
    assert "Idempotent-Replayed" not in retried
    (order,) = Order.objects.all()
    assert retried.json()["number"] == order.number
    assert Product.objects.get(pk=mug.pk).stock == 3
    assert not CartItem.objects.filter(cart__user=buyer).exists()
    replayed = checkout(buyer_client)
    assert (replayed.status_code, replayed["Idempotent-Replayed"]) == (201, "true")
    assert replayed.json() == retried.json()
    assert Order.objects.count() == 1


# --- Redis down --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_with_redis_down_the_catalog_cart_and_checkout_keep_working(dead_redis, buyer, buyer_client, mug, api_client):
    assert api_client.get("/api/v1/products/").json()["results"][0]["slug"] == mug.slug
    assert api_client.get(f"/api/v1/products/{mug.slug}/").json()["stock"] == 5
    assert api_client.get("/api/v1/categories/").status_code == 200
    assert api_client.get(f"/api/v1/stores/{mug.store.slug}/").status_code == 200

    response = buyer_client.post("/api/v1/cart/items/", {"product": mug.slug, "quantity": 2}, format="json")
    assert response.status_code == 201, response.json()
    assert buyer_client.get("/api/v1/cart/").json()["subtotal"] == "25.00"

    response = checkout(buyer_client, payment_method="pm_card_visa")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "paid"

    # uncached: the reads see the stock the checkout took
    assert api_client.get(f"/api/v1/products/{mug.slug}/").json()["stock"] == 3
    assert buyer_client.get("/api/v1/orders/").json()["count"] == 1


# --- the payment provider timing out ----------------------------------------------------------


def provider_timing_out(*, after_charging: bool):
    """SimulatedProvider.confirm raising ProviderError like a read timeout: before the provider did
    anything, or after it charged the card (the answer lost on the way back)."""
    real_confirm = SimulatedProvider.confirm

    def confirm(self, **kwargs):
        if after_charging:
            real_confirm(self, **kwargs)
        raise ProviderError("Read timed out. (read timeout=10)")

    return mock.patch.object(SimulatedProvider, "confirm", confirm)


@pytest.mark.django_db
@pytest.mark.parametrize("after_charging", [False, True], ids=["before-the-charge", "answer-lost"])
def test_the_provider_timing_out_during_pay_is_503_and_paying_again_charges_once(
    buyer, buyer_client, mug, after_charging
):
    fill_cart(buyer, (mug, 2))
    number = checkout(buyer_client).json()["number"]

    with provider_timing_out(after_charging=after_charging):
        response = pay(buyer_client, number, key="pay-1")

    assert response.status_code == 503
    assert response.json() == PROVIDER_DOWN
    order = buyer_client.get(f"/api/v1/orders/{number}/").json()
    assert (order["status"], order["payment"]["status"]) == ("pending_payment", "pending")
    assert [event["to"] for event in order["events"]] == ["pending_payment"]
    assert not Payment.objects.filter(status="succeeded").exists()
    assert not IdempotencyKey.objects.filter(key="pay-1").exists()  # no outcome: the same key may run again

    response = pay(buyer_client, number, key="pay-1")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "paid"
    assert list(Payment.objects.values_list("status", "amount")) == [("succeeded", Decimal("25.00"))]
    assert list(SimulatedPayment.objects.values_list("status", "amount")) == [("succeeded", Decimal("25.00"))]
    assert pay(buyer_client, number, key="pay-2").status_code == 409  # paid: nothing more to charge


@pytest.mark.django_db
def test_the_provider_timing_out_at_checkout_keeps_the_order_payable(buyer, buyer_client, mug):
    fill_cart(buyer, (mug, 1))

    with mock.patch.object(SimulatedProvider, "start", side_effect=ProviderError("Read timed out.")):
        response = checkout(buyer_client, payment_method="pm_card_visa")

    assert response.status_code == 201, response.json()
    number = response.json()["number"]
    assert (response.json()["status"], response.json()["payment"]["status"]) == ("pending_payment", "pending")
    assert not SimulatedPayment.objects.exists()

    assert pay(buyer_client, number, key="pay-1").json()["status"] == "paid"
    assert Payment.objects.filter(status="succeeded").count() == 1
    assert list(SimulatedPayment.objects.values_list("status", flat=True)) == ["succeeded"]


@pytest.mark.django_db
def test_stripe_answering_500_again_and_again_is_503_each_time_then_one_charge(
    stripe_standin, buyer, buyer_client, mug
):
    fill_cart(buyer, (mug, 2))
    number = checkout(buyer_client).json()["number"]
    (intent,) = stripe_standin.intents

    for _ in range(2):
        stripe_standin.fail_next(3)  # the SDK's request and both of its retries
        response = pay(buyer_client, number, key="pay-1")
        assert response.status_code == 503
        assert response.json() == PROVIDER_DOWN
        assert buyer_client.get(f"/api/v1/orders/{number}/").json()["status"] == "pending_payment"
        assert stripe_standin.intents[intent]["amount_received"] == 0

    response = pay(buyer_client, number, key="pay-1")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "paid"
    confirms = stripe_standin.requests_to("POST", f"/v1/payment_intents/{intent}/confirm")
    assert [r.status for r in confirms] == [500] * 6 + [200]
    assert stripe_standin.intents[intent]["amount_received"] == 2500
    assert list(Payment.objects.values_list("status", flat=True)) == ["succeeded"]
    assert len(stripe_standin.intents) == 1  # no second PaymentIntent, no second charge
