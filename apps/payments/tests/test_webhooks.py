"""Stripe webhooks through the API, against the local Stripe stand-in: verified on the raw body, stored
once per event id, applied idempotently and in any order (API.md, Checkout, orders, payments).

The storefront's Stripe.js flow: checkout without a payment method opens a PaymentIntent, the browser
confirms it at Stripe with the client secret, and only the webhook tells Bazaar; ``pay`` is never called.
"""

import json
import time
from decimal import Decimal

import pytest
from django.core import mail
from django.test import TestCase
from rest_framework.test import APIClient

from apps.catalog.models import Product
from apps.orders.models import Order, OrderEvent
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.models import Payment, WebhookEvent
from apps.payments.providers.stripe_provider import StripeProvider
from apps.payments.tests.stripe_standin import (  # noqa: F401 (stripe_standin_fixture registers the fixture)
    WEBHOOK_SECRET,
    event_payload,
    intent_now,
    sign_payload,
    stripe_standin_fixture,
)

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/v1/payments/stripe/webhook/"
REFUNDS = "/v1/refunds"


@pytest.fixture
def number(stripe_standin, buyer, mug, buyer_client):
    """A pending_payment order for 2 mugs (25.00 USD) with an open PaymentIntent at the stand-in."""
    fill_cart(buyer, (mug, 2))
    response = buyer_client.post("/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["payment"]["status"] == "pending"
    return response.json()["number"]


@pytest.fixture
def intent(number):
    return Payment.objects.get(order__number=number).reference


def confirm_in_browser(intent: str, payment_method: str = "pm_card_visa") -> None:
    """What Stripe.js does with the client secret: confirm the intent at Stripe, Bazaar not involved."""
    StripeProvider().confirm(
        payment_ref=intent, payment_method=payment_method, idempotency_key=f"stripe-js-{intent}-{payment_method}"
    )


def deliver(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None, signed: bool = True):
    """POST the event as Stripe would. Its processing is a task queued on commit: tests that need
    it wrap the call in ``django_capture_on_commit_callbacks(execute=True)``."""
    headers = {"HTTP_STRIPE_SIGNATURE": sign_payload(payload, secret, timestamp)} if signed else {}
    return APIClient().post(WEBHOOK, data=payload, content_type="application/json", **headers)


def process(payload: bytes):
    """Deliver the event and run its processing task (queued on commit) before returning."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return deliver(payload)


def event_id(payload: bytes) -> str:
    return json.loads(payload)["id"]


def order_detail(client, number: str) -> dict:
    response = client.get(f"/api/v1/orders/{number}/")
    assert response.status_code == 200
    return response.json()


def test_succeeded_pays_the_order_without_pay_being_called(
    stripe_standin, buyer, mug, number, intent, django_capture_on_commit_callbacks, buyer_client
):
    confirm_in_browser(intent)
    payload = event_payload("payment_intent.succeeded", intent_now(stripe_standin, intent))

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(payload)

    assert response.status_code == 200
    assert response.json() == {"received": True, "event": event_id(payload)}
    order = order_detail(buyer_client, number)
    assert order["status"] == "paid"
    assert order["needs_review"] is False
    assert order["payment"] | {"client_secret": None} == {
        "provider": "stripe",
        "status": "succeeded",
        "amount": "25.00",
        "failure_code": "",
        "client_secret": None,
    }
    assert [(e["from"], e["to"], e["by"], e["note"]) for e in order["events"]] == [
        (None, "pending_payment", "buyer", "checkout"),
        ("pending_payment", "paid", "system", f"stripe webhook {event_id(payload)}"),
    ]
    (stored,) = WebhookEvent.objects.all()
    payment = Payment.objects.get(order__number=number)
    assert (stored.provider, stored.event_id, stored.type, stored.payment_reference) == (
        "stripe",
        event_id(payload),
        "payment_intent.succeeded",
        intent,
    )
    assert stored.processed_at is not None
    assert stored.outcome == f"payment {payment.pk} succeeded"
    # The only confirmation Stripe saw is the browser's.
    (confirm,) = stripe_standin.requests_to("POST", f"/v1/payment_intents/{intent}/confirm")
    assert confirm.headers["idempotency-key"] == f"stripe-js-{intent}-pm_card_visa"
    assert sorted(message.to[0] for message in mail.outbox) == sorted([buyer.email, mug.store.owner.email])
    assert stripe_standin.requests_to("POST", REFUNDS) == []


def test_the_same_event_again_changes_nothing(stripe_standin, number, intent, django_capture_on_commit_callbacks):
    confirm_in_browser(intent)
    payload = event_payload("payment_intent.succeeded", intent_now(stripe_standin, intent))
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(payload).status_code == 200
    assert len(mail.outbox) == 2
    order, payment = Order.objects.get(number=number), Payment.objects.get(order__number=number)
    stored = WebhookEvent.objects.get()
    requests_before = len(stripe_standin.requests)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = deliver(payload)  # Stripe redelivers: same body, a fresh signature

    assert response.status_code == 200
    assert response.json() == {"received": True, "event": event_id(payload)}
    assert callbacks == []
    assert len(mail.outbox) == 2
    assert OrderEvent.objects.filter(order=order).count() == 2
    assert Order.objects.get(pk=order.pk).updated_at == order.updated_at
    assert Payment.objects.get(pk=payment.pk).updated_at == payment.updated_at
    assert list(WebhookEvent.objects.values_list("pk", "processed_at")) == [(stored.pk, stored.processed_at)]
    assert len(stripe_standin.requests) == requests_before


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param({"secret": "whsec_someone_else"}, id="wrong-secret"),
        pytest.param({"timestamp": -301}, id="older-than-300s"),
        pytest.param({"signed": False}, id="missing-header"),
    ],
)
def test_a_bad_signature_is_400_and_nothing_is_stored(stripe_standin, buyer_client, number, intent, forged):
    confirm_in_browser(intent)  # the money did move: only the signature stands between this body and the order
    payload = event_payload("payment_intent.succeeded", intent_now(stripe_standin, intent))
    if "timestamp" in forged:
        forged = {"timestamp": int(time.time()) + forged["timestamp"]}

    response = deliver(payload, **forged)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert set(response.json()) == {"detail", "code"}
    assert not WebhookEvent.objects.exists()
    order = order_detail(buyer_client, number)
    assert order["status"] == "pending_payment"
    assert order["payment"]["status"] == "pending"
    assert [e["to"] for e in order["events"]] == ["pending_payment"]


def test_a_body_changed_after_signing_is_refused(stripe_standin, number, intent):
    confirm_in_browser(intent)
    payload = event_payload("payment_intent.succeeded", intent_now(stripe_standin, intent))
    signature = sign_payload(payload, WEBHOOK_SECRET)
    tampered = payload.replace(b'"amount": 2500', b'"amount": 1')

    response = APIClient().post(
        WEBHOOK, data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )

    assert tampered != payload
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()
    assert Order.objects.get(number=number).status == "pending_payment"


def test_payment_failed_marks_the_attempt_failed_and_the_order_stays_payable(
    stripe_standin, buyer_client, number, intent
):
    confirm_in_browser(intent, "pm_card_chargeDeclinedInsufficientFunds")
    payload = event_payload("payment_intent.payment_failed", intent_now(stripe_standin, intent))

    response = process(payload)

    assert response.status_code == 200
    order = order_detail(buyer_client, number)
    assert order["status"] == "pending_payment"
    assert (order["payment"]["status"], order["payment"]["failure_code"]) == ("failed", "insufficient_funds")
    assert [e["to"] for e in order["events"]] == ["pending_payment"]


def test_a_failure_arriving_after_the_success_leaves_the_order_paid(stripe_standin, buyer_client, number, intent):
    confirm_in_browser(intent, "pm_card_chargeDeclined")  # the first card was declined ...
    failed = event_payload("payment_intent.payment_failed", intent_now(stripe_standin, intent))
    confirm_in_browser(intent)  # ... the second one went through
    succeeded = event_payload("payment_intent.succeeded", intent_now(stripe_standin, intent))

    assert process(succeeded).status_code == 200
    response = process(failed)  # delivered late

    assert response.status_code == 200
    order = order_detail(buyer_client, number)
    assert order["status"] == "paid"
    assert (order["payment"]["status"], order["payment"]["failure_code"]) == ("succeeded", "")
    assert [e["to"] for e in order["events"]] == ["pending_payment", "paid"]
    assert sorted(WebhookEvent.objects.values_list("type", flat=True)) == [
        "payment_intent.payment_failed",
        "payment_intent.succeeded",
    ]


def test_charge_refunded_marks_the_payment_refunded(stripe_standin, buyer_client, number, intent):
    confirm_in_browser(intent)
    assert process(event_payload("payment_intent.succeeded", intent_now(stripe_standin, intent))).status_code == 200
    StripeProvider().refund(payment_ref=intent, amount=Decimal("25.00"), idempotency_key="dashboard-refund")
    payload = event_payload("charge.refunded", stripe_standin.charge(intent))

    response = process(payload)

    assert response.status_code == 200
    assert order_detail(buyer_client, number)["payment"]["status"] == "refunded"
    assert WebhookEvent.objects.get(event_id=event_id(payload)).outcome.endswith(" refunded")
    assert len(stripe_standin.requests_to("POST", REFUNDS)) == 1  # Bazaar did not refund a second time


def test_a_partial_refund_outside_bazaar_is_recorded_and_flags_the_order(stripe_standin, buyer_client, number, intent):
    confirm_in_browser(intent)
    assert process(event_payload("payment_intent.succeeded", intent_now(stripe_standin, intent))).status_code == 200
    StripeProvider().refund(payment_ref=intent, amount=Decimal("5.00"), idempotency_key="dashboard-refund")

    response = process(event_payload("charge.refunded", stripe_standin.charge(intent)))

    assert response.status_code == 200
    order = order_detail(buyer_client, number)
    assert (order["status"], order["payment"]["status"], order["needs_review"]) == ("paid", "partially_refunded", True)
    payment = Payment.objects.get(order__number=number)
    assert payment.amount_refunded == Decimal("5.00")
    assert list(payment.refunds.values_list("amount", "origin", "status")) == [
        (Decimal("5.00"), "provider", "succeeded")
    ]


@pytest.mark.parametrize(
    ("changes", "reported"),
    [
        pytest.param({"amount": 1000, "amount_received": 1000}, "10.00 USD", id="amount"),
        pytest.param({"currency": "eur"}, "25.00 EUR", id="currency"),
    ],
)
def test_a_mismatching_success_flags_the_order_for_review_instead_of_paying_it(
    stripe_standin, buyer_client, number, intent, changes, reported, django_capture_on_commit_callbacks
):
    confirm_in_browser(intent)
    payload = event_payload("payment_intent.succeeded", intent_now(stripe_standin, intent) | changes)

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(payload)

    assert response.status_code == 200
    order = order_detail(buyer_client, number)
    assert order["status"] == "pending_payment"
    assert order["needs_review"] is True
    assert [(e["from"], e["to"], e["note"]) for e in order["events"]][1:] == [
        ("pending_payment", "pending_payment", f"payment of {reported} does not match 25.00 USD: needs review")
    ]
    assert mail.outbox == []
    assert stripe_standin.requests_to("POST", REFUNDS) == []


@pytest.mark.parametrize(
    "metadata", [pytest.param({"order": "NOSUCHORDER1"}, id="unknown-order"), pytest.param({}, id="no-order")]
)
def test_an_event_for_an_unknown_intent_is_stored_and_changes_nothing(stripe_standin, buyer_client, number, metadata):
    stranger = {"id": "pi_not_ours", "object": "payment_intent", "status": "succeeded", "metadata": metadata}
    stranger |= {"amount": 2500, "amount_received": 2500, "currency": "usd"}
    payload = event_payload("payment_intent.succeeded", stranger)
    payment = Payment.objects.get(order__number=number)

    response = process(payload)

    assert response.status_code == 200
    assert response.json() == {"received": True, "event": event_id(payload)}
    stored = WebhookEvent.objects.get()
    assert (stored.event_id, stored.payment_reference, stored.outcome) == (
        event_id(payload),
        "pi_not_ours",
        "ignored: unknown payment",
    )
    assert stored.processed_at is not None
    assert Payment.objects.get(pk=payment.pk).updated_at == payment.updated_at
    assert Payment.objects.count() == 1
    assert order_detail(buyer_client, number)["status"] == "pending_payment"


def test_a_success_for_an_intent_bazaar_never_recorded_is_matched_by_its_order_number(
    stripe_standin, buyer_client, number, intent
):
    """Stripe made the intent but its answer never reached Bazaar: the attempt has no reference yet, and
    the intent names the order in metadata[order]."""
    Payment.objects.filter(order__number=number).update(reference="")
    confirm_in_browser(intent)

    response = process(event_payload("payment_intent.succeeded", intent_now(stripe_standin, intent)))

    assert response.status_code == 200
    payment = Payment.objects.get(order__number=number)
    assert (payment.reference, payment.status) == (intent, "succeeded")
    assert order_detail(buyer_client, number)["status"] == "paid"


def test_an_unknown_event_type_is_acknowledged_and_ignored(stripe_standin, number, intent):
    payload = event_payload("payment_intent.created", intent_now(stripe_standin, intent))
    payment = Payment.objects.get(order__number=number)

    response = process(payload)

    assert response.status_code == 200
    assert response.json() == {"received": True, "event": event_id(payload)}
    assert WebhookEvent.objects.get().outcome == "ignored: unhandled type"
    assert Payment.objects.get(pk=payment.pk).updated_at == payment.updated_at


def test_a_success_for_a_cancelled_order_is_refunded(
    stripe_standin, buyer_client, mug, number, intent, django_capture_on_commit_callbacks
):
    """The buyer cancels while their browser's confirm is on its way to Stripe. (The cancel's own call to
    Stripe runs after commit, which this test's transaction never reaches: the intent stays open, as in the
    race.)"""
    assert buyer_client.post(f"/api/v1/orders/{number}/cancel/").status_code == 200
    confirm_in_browser(intent)
    payload = event_payload("payment_intent.succeeded", intent_now(stripe_standin, intent))

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(payload)
        assert deliver(payload).status_code == 200  # a redelivery refunds nothing more

    assert response.status_code == 200
    order = order_detail(buyer_client, number)
    assert order["status"] == "cancelled"
    assert order["payment"]["status"] == "refunded"
    assert [e["to"] for e in order["events"]] == ["pending_payment", "cancelled"]
    (refund,) = stripe_standin.requests_to("POST", REFUNDS)
    assert refund.params == {"payment_intent": intent, "amount": "2500"}
    assert refund.headers["idempotency-key"] == f"order-{number}-attempt-1-refund-1"
    (refunded,) = stripe_standin.refunds.values()
    assert Payment.objects.get(order__number=number).refund_reference == refunded["id"]
    assert Product.objects.get(pk=mug.pk).stock == 5
    assert mail.outbox == []  # no confirmation mail for a cancelled order


@pytest.mark.django_db
def test_without_stripe_configured_the_webhook_is_400_not_500(settings):
    """No event can be verified without Stripe's keys: API.md's 400 for an unverifiable event."""
    settings.STRIPE_SECRET_KEY = ""
    response = APIClient().post("/api/v1/payments/stripe/webhook/", [None, None], format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()
