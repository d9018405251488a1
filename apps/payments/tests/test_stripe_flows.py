"""Checkout, pay, ship, deliver and cancel through the API with Stripe as the provider, against the local
Stripe stand-in (the official SDK over HTTP; nothing reaches api.stripe.com)."""

import json
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory
from apps.orders.models import OrderEvent
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.models import Payment
from apps.payments.providers.stripe_provider import StripeProvider
from apps.payments.tests.stripe_standin import (  # noqa: F401 (stripe_standin_fixture registers the fixture)
    WEBHOOK_SECRET,
    event_payload,
    sign_payload,
    stripe_standin_fixture,
)

pytestmark = pytest.mark.django_db

INTENTS = "/v1/payment_intents"
REFUNDS = "/v1/refunds"


def checkout(client, buyer, *pairs, **body) -> dict:
    fill_cart(buyer, *pairs)
    response = client.post("/api/v1/checkout/", {"shipping_address": ADDRESS, **body}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def pay(client, number: str, payment_method: str):
    return client.post(f"/api/v1/orders/{number}/pay/", {"payment_method": payment_method}, format="json")


def intent_of(number: str) -> str:
    return Payment.objects.get(order__number=number).reference


def confirms(standin, intent: str) -> list:
    return standin.requests_to("POST", f"{INTENTS}/{intent}/confirm")


def test_checkout_pay_ship_deliver(settings, stripe_standin, buyer, buyer_client, client_for):
    settings.SHIPPING_FLAT_RATE = Decimal("4.50")
    mug = ProductFactory(name="Mug", price=Decimal("12.50"), stock=5)
    book = ProductFactory(name="Book", price=Decimal("20.00"), stock=2)

    order = checkout(buyer_client, buyer, (mug, 2), (book, 1))

    number = order["number"]
    assert (order["status"], order["total"]) == ("pending_payment", "54.00")
    (intent,) = stripe_standin.intents.values()
    assert (intent["amount"], intent["currency"], intent["metadata"]) == (5400, "usd", {"order": number})
    assert intent["payment_method_types"] == ["card"]
    assert order["payment"] == {
        "provider": "stripe",
        "status": "pending",
        "amount": "54.00",
        "failure_code": "",
        "client_secret": intent["client_secret"],
    }

    response = pay(buyer_client, number, "pm_card_visa")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "paid"
    assert response.json()["payment"]["status"] == "succeeded"
    (confirm,) = confirms(stripe_standin, intent["id"])
    assert confirm.params == {"payment_method": "pm_card_visa"}
    assert confirm.headers["idempotency-key"].startswith(f"order-{number}-attempt-1-confirm-")
    assert (
        stripe_standin.intents[intent["id"]]["status"],
        stripe_standin.intents[intent["id"]]["amount_received"],
    ) == (
        "succeeded",
        5400,
    )

    for product, shipment in ((mug, {"carrier": "UPS", "tracking_number": "1Z999"}), (book, {})):
        seller = client_for(product.store.owner)
        assert seller.post(f"/api/v1/seller/orders/{number}/ship/", shipment, format="json").status_code == 200
    response = buyer_client.post(f"/api/v1/orders/{number}/confirm-delivery/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "delivered"
    assert {item["status"] for item in body["items"]} == {"delivered"}
    assert [e["to"] for e in body["events"]] == ["pending_payment", "paid", "partially_shipped", "shipped", "delivered"]
    assert body["payment"]["status"] == "succeeded"
    assert len(stripe_standin.intents) == 1
    assert stripe_standin.requests_to("POST", REFUNDS) == []
    assert (Product.objects.get(pk=mug.pk).stock, Product.objects.get(pk=book.pk).stock) == (3, 1)


def test_the_client_secret_is_shown_to_the_order_owner_only(stripe_standin, buyer, buyer_client, mug, client_for):
    number = checkout(buyer_client, buyer, (mug, 1))["number"]
    secret = stripe_standin.intents[intent_of(number)]["client_secret"]

    assert buyer_client.get(f"/api/v1/orders/{number}/").json()["payment"]["client_secret"] == secret
    assert buyer_client.get("/api/v1/orders/").json()["results"][0]["payment"]["client_secret"] == secret
    assert pay(buyer_client, number, "pm_card_visa").status_code == 200
    seller = client_for(mug.store.owner)
    answers = {
        "seller list": seller.get("/api/v1/seller/orders/"),
        "ship": seller.post(f"/api/v1/seller/orders/{number}/ship/", {}, format="json"),
        "seller on the buyer's path": seller.get(f"/api/v1/orders/{number}/"),
        "another buyer": client_for(UserFactory()).get(f"/api/v1/orders/{number}/"),
    }

    assert {name: answer.status_code for name, answer in answers.items()} == {
        "seller list": 200,
        "ship": 200,
        "seller on the buyer's path": 404,
        "another buyer": 404,
    }
    assert answers["seller list"].json()["results"][0]["number"] == number
    for name, answer in answers.items():
        assert secret not in answer.content.decode(), name
        assert "client_secret" not in answer.content.decode(), name


@pytest.mark.parametrize(
    ("method", "code", "detail"),
    [
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds", "Your card has insufficient funds."),
        ("pm_card_chargeDeclined", "card_declined", "Your card was declined."),
    ],
)
def test_a_decline_is_402_and_the_order_can_then_be_paid(
    stripe_standin, buyer, buyer_client, mug, method, code, detail
):
    number = checkout(buyer_client, buyer, (mug, 2))["number"]
    intent = intent_of(number)

    response = pay(buyer_client, number, method)

    assert response.status_code == 402
    assert response.json() == {"detail": detail, "code": code}
    order = buyer_client.get(f"/api/v1/orders/{number}/").json()
    assert order["status"] == "pending_payment"
    assert (order["payment"]["status"], order["payment"]["failure_code"]) == ("failed", code)
    assert [e["to"] for e in order["events"]] == ["pending_payment"]
    assert stripe_standin.intents[intent]["amount_received"] == 0
    assert Product.objects.get(pk=mug.pk).stock == 3  # still reserved for the buyer

    response = pay(buyer_client, number, "pm_card_visa")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "paid"
    assert (response.json()["payment"]["status"], response.json()["payment"]["failure_code"]) == ("succeeded", "")
    assert list(stripe_standin.intents) == [intent]  # the same intent, paid with another card
    assert [r.params["payment_method"] for r in confirms(stripe_standin, intent)] == [method, "pm_card_visa"]
    assert stripe_standin.intents[intent]["amount_received"] == 2500


def test_an_unknown_payment_method_id_is_400(stripe_standin, buyer, buyer_client, mug):
    number = checkout(buyer_client, buyer, (mug, 1))["number"]

    response = pay(buyer_client, number, "pm_card_nosuchthing")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Stripe refused the payment method: No such PaymentMethod: 'pm_card_nosuchthing'",
        "code": "invalid_payment_method",
    }
    order = buyer_client.get(f"/api/v1/orders/{number}/").json()
    assert (order["status"], order["payment"]["status"]) == ("pending_payment", "pending")
    assert stripe_standin.intents[intent_of(number)]["status"] == "requires_payment_method"


@pytest.mark.parametrize("card", ["4242424242424242", "4242 4242 4242 4242", "4000-0000-0000-0002"])
def test_a_card_number_is_refused_and_never_sent_to_stripe(stripe_standin, buyer, buyer_client, mug, card):
    number = checkout(buyer_client, buyer, (mug, 1))["number"]
    requests_before = len(stripe_standin.requests)

    response = pay(buyer_client, number, card)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Card numbers are never sent to Stripe; collect the card with Stripe.js and send its pm_... id.",
        "code": "invalid_payment_method",
    }
    assert stripe_standin.requests[requests_before:] == []
    assert confirms(stripe_standin, intent_of(number)) == []
    digits = card.replace(" ", "").replace("-", "")
    assert not any(digits in request.body.replace("+", "").replace("-", "") for request in stripe_standin.requests)
    assert buyer_client.get(f"/api/v1/orders/{number}/").json()["status"] == "pending_payment"


def test_stripe_failing_during_pay_is_503_and_charges_nothing(stripe_standin, buyer, buyer_client, mug):
    number = checkout(buyer_client, buyer, (mug, 2))["number"]
    intent = intent_of(number)
    stripe_standin.fail_next(3)  # the SDK's request and both of its retries

    response = pay(buyer_client, number, "pm_card_visa")

    assert response.status_code == 503
    assert response.json() == {
        "detail": "The payment provider is unavailable; the order is kept and can be paid later.",
        "code": "payment_provider_unavailable",
    }
    assert [r.status for r in stripe_standin.requests[-3:]] == [500, 500, 500]
    assert [r.status for r in confirms(stripe_standin, intent)] == [500, 500, 500]
    assert (stripe_standin.intents[intent]["status"], stripe_standin.intents[intent]["amount_received"]) == (
        "requires_payment_method",
        0,
    )
    order = buyer_client.get(f"/api/v1/orders/{number}/").json()
    assert (order["status"], order["payment"]["status"]) == ("pending_payment", "pending")
    assert [e["to"] for e in order["events"]] == ["pending_payment"]

    response = pay(buyer_client, number, "pm_card_visa")  # Stripe is back

    assert response.status_code == 200
    assert response.json()["status"] == "paid"
    assert [r.status for r in confirms(stripe_standin, intent)] == [500, 500, 500, 200]


@pytest.mark.parametrize(
    ("method", "order_status", "payment_status", "failure_code"),
    [
        ("pm_card_visa", "paid", "succeeded", ""),
        ("pm_card_chargeDeclined", "pending_payment", "failed", "card_declined"),
    ],
)
def test_checkout_with_a_payment_method_confirms_at_once(
    stripe_standin, buyer, buyer_client, mug, method, order_status, payment_status, failure_code
):
    order = checkout(buyer_client, buyer, (mug, 1), payment_method=method)

    assert order["status"] == order_status
    assert (order["payment"]["provider"], order["payment"]["status"]) == ("stripe", payment_status)
    assert order["payment"]["failure_code"] == failure_code
    (intent,) = stripe_standin.intents
    assert [r.params["payment_method"] for r in confirms(stripe_standin, intent)] == [method]


def test_cancel_after_a_webhook_payment_refunds_once_and_returns_stock(
    settings, stripe_standin, buyer, buyer_client, mug, django_capture_on_commit_callbacks
):
    settings.SHIPPING_FLAT_RATE = Decimal("4.50")
    number = checkout(buyer_client, buyer, (mug, 2))["number"]
    intent = intent_of(number)
    StripeProvider().confirm(payment_ref=intent, payment_method="pm_card_visa", idempotency_key="stripe-js")
    payload = event_payload("payment_intent.succeeded", json.loads(json.dumps(stripe_standin.intents[intent])))
    with django_capture_on_commit_callbacks(execute=True):  # the webhook is processed in a task after commit
        response = APIClient().post(
            "/api/v1/payments/stripe/webhook/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign_payload(payload, WEBHOOK_SECRET),
        )
    assert response.status_code == 200
    assert buyer_client.get(f"/api/v1/orders/{number}/").json()["status"] == "paid"
    assert Product.objects.get(pk=mug.pk).stock == 3

    with django_capture_on_commit_callbacks(execute=True):
        response = buyer_client.post(f"/api/v1/orders/{number}/cancel/")

    assert response.status_code == 200
    order = buyer_client.get(f"/api/v1/orders/{number}/").json()
    assert order["status"] == "cancelled"
    assert order["payment"]["status"] == "refunded"
    assert {item["status"] for item in order["items"]} == {"cancelled"}
    assert [e["to"] for e in order["events"]] == ["pending_payment", "paid", "cancelled"]
    assert Product.objects.get(pk=mug.pk).stock == 5
    (refund,) = stripe_standin.requests_to("POST", REFUNDS)
    assert refund.params == {"payment_intent": intent, "amount": "2950"}
    (refunded,) = stripe_standin.refunds.values()
    assert (refunded["amount"], refunded["currency"], refunded["status"]) == (2950, "usd", "succeeded")
    assert stripe_standin.requests_to("POST", f"{INTENTS}/{intent}/cancel") == []
    assert OrderEvent.objects.filter(order__number=number, to_status="paid").count() == 1


def test_paying_again_with_the_same_declined_card_asks_stripe_again(stripe_standin, buyer, buyer_client, mug):
    """After a top-up the same card may succeed: a new pay request is a new confirmation, never
    the replay of the old decline."""
    number = checkout(buyer_client, buyer, (mug, 1))["number"]
    intent = intent_of(number)

    assert pay(buyer_client, number, "pm_card_chargeDeclinedInsufficientFunds").status_code == 402
    assert pay(buyer_client, number, "pm_card_chargeDeclinedInsufficientFunds").status_code == 402

    keys = [r.headers["idempotency-key"] for r in confirms(stripe_standin, intent)]
    assert len(keys) == 2
    assert keys[0] != keys[1]
