"""Money going back, right on every retry: the audit's findings 3, 4, 6, 7, 10 and 15, driven
through Stripe's SDK against the local stand-in where the provider's side matters."""

from decimal import Decimal
from unittest import mock

import pytest
from django.test import TestCase

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Product
from apps.checkout.services import checkout_cancel, checkout_expire, checkout_review_refund
from apps.orders.models import Order, OrderStatus
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.models import Payment, Refund
from apps.payments.providers import get_provider
from apps.payments.providers.base import PaymentResult, PaymentStatus, ProviderError
from apps.payments.providers.simulated import SimulatedProvider
from apps.payments.providers.stripe_provider import StripeProvider
from apps.payments.services import payment_apply_result, payment_record, payment_start, payments_refund_due
from apps.payments.tests.stripe_standin import (  # noqa: F401 (stripe_standin_fixture registers the fixture)
    event_payload,
    intent_now,
    sign_payload,
    stripe_standin_fixture,
)

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/v1/payments/stripe/webhook/"
REFUNDS = "/v1/refunds"


def deliver(client, payload: bytes):
    """POST a signed event and run its processing (queued on commit)."""
    from apps.payments.tests.stripe_standin import WEBHOOK_SECRET

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            WEBHOOK,
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign_payload(payload, WEBHOOK_SECRET),
        )
    assert response.status_code == 200
    return response


@pytest.fixture
def placed(stripe_standin, buyer, client_for, mug):
    """A pending_payment order for 2 mugs (25.00) with an open PaymentIntent: (number, intent)."""
    fill_cart(buyer, (mug, 2))
    response = client_for(buyer).post("/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json")
    assert response.status_code == 201, response.json()
    number = response.json()["number"]
    return number, Payment.objects.get(order__number=number).reference


def charge_in_browser(standin, intent: str, *, received_minor: int | None = None) -> dict:
    """Stripe.js confirms the intent; ``received_minor`` makes Stripe report another amount taken."""
    StripeProvider().confirm(payment_ref=intent, payment_method="pm_card_visa", idempotency_key=f"js-{intent}")
    if received_minor is not None:
        standin.intents[intent]["amount_received"] = received_minor
    return intent_now(standin, intent)


# --- finding 3: needs_review payments refunded for the wrong amount ----------------------------


@pytest.mark.parametrize("received", [3000, 2000], ids=["received-30.00", "received-20.00"])
def test_a_payment_under_review_is_left_to_staff_who_refund_what_was_received(
    stripe_standin, api_client, placed, mug, received
):
    number, intent = placed
    deliver(
        api_client,
        event_payload("payment_intent.succeeded", charge_in_browser(stripe_standin, intent, received_minor=received)),
    )
    order = Order.objects.get(number=number)
    assert (order.status, order.needs_review) == (OrderStatus.PENDING_PAYMENT, True)
    Order.objects.filter(pk=order.pk).update(created_at=order.created_at.replace(year=2000))

    assert checkout_expire() == []  # never expired while under review
    payments_refund_due()  # nor refunded by the sweep

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    assert stripe_standin.requests_to("POST", REFUNDS) == []
    staff = UserFactory(is_staff=True)

    with TestCase.captureOnCommitCallbacks(execute=True):  # the provider is called after commit
        checkout_review_refund(order=order, staff=staff)

    (refund,) = stripe_standin.requests_to("POST", REFUNDS)
    assert refund.params == {"payment_intent": intent, "amount": str(received)}
    payment = Payment.objects.get(order=order)
    expected = Decimal(received) / 100
    assert (payment.status, payment.amount_received, payment.amount_refunded) == ("refunded", expected, expected)
    order.refresh_from_db()
    assert (order.status, order.needs_review) == (OrderStatus.CANCELLED, False)
    assert order.events.filter(actor=staff).exists()
    assert Product.objects.get(pk=mug.pk).stock == 5
    payments_refund_due()
    assert len(stripe_standin.requests_to("POST", REFUNDS)) == 1  # nothing more, ever


# --- finding 4: a duplicate charge whose refund failed was never refunded ----------------------


def test_a_second_charge_whose_refund_fails_is_refunded_by_the_sweep(stripe_standin, api_client, placed):
    number, first = placed
    order = Order.objects.get(number=number)
    second = payment_start(order=order)  # a second tab opened before paying
    deliver(api_client, event_payload("payment_intent.succeeded", charge_in_browser(stripe_standin, first)))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    charged_twice = event_payload("payment_intent.succeeded", charge_in_browser(stripe_standin, second.reference))
    stripe_standin.fail_next(3)  # the refund, and both of the SDK's retries

    deliver(api_client, charged_twice)

    second.refresh_from_db()
    assert second.status == PaymentStatus.SUCCEEDED
    (due,) = Refund.objects.filter(payment=second)
    assert (due.status, due.amount, due.reference) == ("pending", Decimal("25.00"), "")  # recorded, not lost

    assert payments_refund_due() == 1

    second.refresh_from_db()
    assert (second.status, second.amount_refunded) == ("refunded", Decimal("25.00"))
    assert Payment.objects.get(reference=first).status == "succeeded"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert stripe_standin.intents[second.reference]["amount_received"] == 2500
    assert [r.status for r in stripe_standin.requests_to("POST", REFUNDS)] == [500, 500, 500, 200]


def test_pay_losing_to_another_tab_is_409_and_its_failed_refund_is_swept(buyer, client_for, mug):
    client = client_for(buyer)
    fill_cart(buyer, (mug, 2))
    number = client.post("/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json").json()["number"]
    order = Order.objects.get(number=number)
    first = order.payments.get()
    payment_start(order=order)  # the attempt /pay/ will confirm
    real_confirm, real_refund = SimulatedProvider.confirm, SimulatedProvider.refund

    def confirm(self, **kwargs):  # the other tab's success lands first
        other = real_confirm(self, payment_ref=first.reference, payment_method="pm_card_visa", idempotency_key="t")
        payment_apply_result(payment=first, result=other, note="other tab")
        return real_confirm(self, **kwargs)

    with (
        mock.patch.object(SimulatedProvider, "confirm", confirm),
        mock.patch.object(SimulatedProvider, "refund", side_effect=ProviderError("Read timed out.")),
    ):
        response = client.post(f"/api/v1/orders/{number}/pay/", {"payment_method": "pm_card_visa"}, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert Refund.objects.get().status == "pending"
    with mock.patch.object(SimulatedProvider, "refund", real_refund):
        payments_refund_due()
    assert sorted(order.payments.values_list("attempt", "status")) == [(1, "succeeded"), (2, "refunded")]


# --- finding 6: a stale read moved a payment back ----------------------------------------------


def test_a_stale_copy_of_a_payment_cannot_move_it_back(buyer, client_for, mug):
    fill_cart(buyer, (mug, 2))
    client_for(buyer).post("/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json")
    stale = Payment.objects.get()  # the sync loop read it while it was pending
    fresh = Payment.objects.get()
    charged = get_provider().confirm(payment_ref=fresh.reference, payment_method="pm_card_visa", idempotency_key="c")
    assert payment_apply_result(payment=fresh, result=charged, note="webhook") == "paid"
    pending = PaymentResult(reference=stale.reference, status="pending", amount=stale.amount, currency="USD")

    recorded = payment_record(payment=stale, result=pending)

    assert recorded.status == "succeeded"
    assert Payment.objects.get(pk=stale.pk).status == "succeeded"
    assert Payment.objects.get(pk=stale.pk).amount_received == Decimal("25.00")


# --- finding 7: the cancel idempotency key used the database id --------------------------------


def test_cancelling_an_attempt_uses_a_key_made_of_the_order_number(stripe_standin, buyer, placed):
    number, intent = placed

    with TestCase.captureOnCommitCallbacks(execute=True):  # the provider is called after commit
        checkout_cancel(order=Order.objects.get(number=number), actor=buyer)

    (cancel,) = stripe_standin.requests_to("POST", f"/v1/payment_intents/{intent}/cancel")
    assert cancel.headers["idempotency-key"] == f"order-{number}-attempt-1-cancel"


# --- finding 10: refunds and disputes made at Stripe -------------------------------------------


def test_a_refund_made_in_stripes_dashboard_is_recorded_once_and_flags_the_order(
    stripe_standin, api_client, placed, mug
):
    number, intent = placed
    deliver(api_client, event_payload("payment_intent.succeeded", charge_in_browser(stripe_standin, intent)))
    StripeProvider().refund(payment_ref=intent, amount=Decimal("5.00"), idempotency_key="dashboard-1")
    partial = event_payload("charge.refunded", stripe_standin.charge(intent))
    StripeProvider().refund(payment_ref=intent, amount=Decimal("20.00"), idempotency_key="dashboard-2")
    full = event_payload("charge.refunded", stripe_standin.charge(intent))

    deliver(api_client, full)
    deliver(api_client, partial)  # older, arriving late: adds nothing
    deliver(api_client, event_payload("charge.refunded", stripe_standin.charge(intent)))  # a new id, same total

    payment = Payment.objects.get(reference=intent)
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("25.00"))
    assert list(payment.refunds.values_list("amount", "origin")) == [(Decimal("25.00"), "provider")]
    order = Order.objects.get(number=number)
    assert (order.status, order.needs_review) == (OrderStatus.PAID, True)  # staff decide; no status change
    assert Product.objects.get(pk=mug.pk).stock == 3  # no stock returned by itself
    assert len(stripe_standin.requests_to("POST", REFUNDS)) == 2  # Bazaar refunded nothing itself


def test_bazaars_own_refund_reported_by_stripe_is_not_an_outside_refund(stripe_standin, api_client, buyer, placed):
    number, intent = placed
    deliver(api_client, event_payload("payment_intent.succeeded", charge_in_browser(stripe_standin, intent)))
    with TestCase.captureOnCommitCallbacks(execute=True):
        checkout_cancel(order=Order.objects.get(number=number), actor=buyer)

    deliver(api_client, event_payload("charge.refunded", stripe_standin.charge(intent)))

    payment = Payment.objects.get(reference=intent)
    assert list(payment.refunds.values_list("origin", "status")) == [("bazaar", "succeeded")]
    assert Order.objects.get(number=number).needs_review is False


def test_a_dispute_flags_the_order_and_sellers_cannot_ship_it(stripe_standin, api_client, placed, client_for):
    number, intent = placed
    deliver(api_client, event_payload("payment_intent.succeeded", charge_in_browser(stripe_standin, intent)))
    dispute = {"id": "dp_1", "object": "dispute", "payment_intent": intent, "amount": 2500, "currency": "usd"}

    deliver(
        api_client,
        event_payload("charge.dispute.created", dispute | {"reason": "fraudulent", "status": "needs_response"}),
    )

    order = Order.objects.get(number=number)
    assert order.needs_review is True
    assert "disputes" in order.events.last().note
    seller = order.lines.get().store.owner
    response = client_for(seller).post(f"/api/v1/seller/orders/{number}/ship/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "needs_review")

    deliver(api_client, event_payload("charge.dispute.closed", dispute | {"status": "won"}))

    assert Order.objects.get(number=number).events.last().note.endswith("is won")


# --- finding 15: a refund Stripe answers pending was requested again and again -----------------


@pytest.fixture
def pending_refund(stripe_standin, api_client, buyer, placed) -> Refund:
    """The paid order is cancelled and Stripe answers its refund ``pending`` (the bank has not said yet)."""
    number, intent = placed
    deliver(api_client, event_payload("payment_intent.succeeded", charge_in_browser(stripe_standin, intent)))
    stripe_standin.refund_status = "pending"
    with TestCase.captureOnCommitCallbacks(execute=True):
        checkout_cancel(order=Order.objects.get(number=number), actor=buyer)
    (refund,) = Refund.objects.all()
    assert (refund.status, refund.reference.startswith("re_")) == ("pending", True)
    return refund


def test_a_pending_refund_is_asked_about_never_requested_again(stripe_standin, placed, pending_refund):
    _, intent = placed
    refund = pending_refund

    payments_refund_due()
    payments_refund_due()

    assert len(stripe_standin.requests_to("POST", REFUNDS)) == 1
    assert len(stripe_standin.requests_to("GET", f"{REFUNDS}/{refund.reference}")) == 2
    assert Payment.objects.get(reference=intent).status == "succeeded"  # not refunded until it is
    stripe_standin.settle_refund(refund.reference)

    payments_refund_due()

    refund.refresh_from_db()
    payment = Payment.objects.get(reference=intent)
    assert (refund.status, payment.status, payment.amount_refunded) == ("succeeded", "refunded", Decimal("25.00"))
    assert len(stripe_standin.requests_to("POST", REFUNDS)) == 1


def test_a_pending_refund_finishes_with_stripes_refund_updated_event(
    stripe_standin, api_client, placed, pending_refund
):
    _, intent = placed
    refund = pending_refund

    deliver(api_client, event_payload("refund.updated", stripe_standin.settle_refund(refund.reference)))
    deliver(api_client, event_payload("refund.updated", stripe_standin.refunds[refund.reference]))  # again

    payment = Payment.objects.get(reference=intent)
    assert (Refund.objects.get().status, payment.status, payment.amount_refunded) == (
        "succeeded",
        "refunded",
        Decimal("25.00"),
    )
