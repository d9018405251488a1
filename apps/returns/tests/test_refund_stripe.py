"""Line refunds and refunds made outside Bazaar, through Stripe's SDK against the local stand-in."""

from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import TestCase

from apps.catalog.models import Product
from apps.ledger.models import Account, Kind, LedgerEntry
from apps.orders.models import OrderStatus, StoreOrder
from apps.payments.models import Payment, Refund
from apps.payments.providers.stripe_provider import StripeProvider
from apps.payments.tests.stripe_standin import (  # noqa: F401 (stripe_standin_fixture registers the fixture)
    WEBHOOK_SECRET,
    event_payload,
    sign_payload,
    stripe_standin_fixture,
)
from apps.returns.tests.conftest import place_paid_order, post_refund

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/v1/payments/stripe/webhook/"
REFUNDS = "/v1/refunds"


def deliver(client, payload: bytes) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            WEBHOOK,
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign_payload(payload, WEBHOOK_SECRET),
        )
    assert response.status_code == 200


@pytest.fixture
def paid(stripe_standin, buyer, buyer_client):
    placed = place_paid_order(buyer, buyer_client)
    placed.intent = Payment.objects.get(order__number=placed.number).reference
    return placed


def stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def test_a_partial_line_refund_asks_stripe_for_its_amount_under_its_own_key(
    stripe_standin, paid, client_for, api_client
):
    seller = client_for(paid.store.owner)

    first = post_refund(seller, paid.number, {"lines": [{"id": paid.line(paid.mug).pk, "quantity": 1}], "reason": "x"})
    second = post_refund(seller, paid.number, {"shipping": True, "reason": "late"})

    assert (first.json()["status"], second.json()["status"]) == ("succeeded", "succeeded")
    one, two = stripe_standin.requests_to("POST", REFUNDS)
    assert one.params == {"payment_intent": paid.intent, "amount": "1250"}
    assert one.headers["idempotency-key"] == f"order-{paid.number}-attempt-1-refund-1"
    assert two.params == {"payment_intent": paid.intent, "amount": "500"}
    assert two.headers["idempotency-key"] == f"order-{paid.number}-attempt-1-refund-2"
    # Stripe then reports the charge refunded by 17.50: Bazaar's own refunds, not one made outside.
    deliver(api_client, event_payload("charge.refunded", stripe_standin.charge(paid.intent)))
    assert list(Refund.objects.values_list("origin", flat=True)) == ["bazaar", "bazaar"]
    assert paid.order.needs_review is False
    payment = Payment.objects.get(reference=paid.intent)
    assert (payment.status, payment.amount_refunded) == ("partially_refunded", Decimal("17.50"))


def test_a_refund_stripe_leaves_pending_counts_its_units_until_it_settles(stripe_standin, paid, client_for):
    stripe_standin.refund_status = "pending"
    seller = client_for(paid.store.owner)
    mug = paid.line(paid.mug)

    response = post_refund(seller, paid.number, {"lines": [{"id": mug.pk, "quantity": 3}], "reason": "x"})

    assert response.json()["status"] == "pending"
    assert paid.line(paid.mug).refunded_quantity == 3
    assert (
        post_refund(seller, paid.number, {"lines": [{"id": mug.pk, "quantity": 1}], "reason": "x"}).status_code == 409
    )


def test_an_outside_refund_is_counted_once_split_in_proportion_and_changes_no_status_nor_stock(
    stripe_standin, paid, api_client, client_for
):
    StripeProvider().refund(payment_ref=paid.intent, amount=Decimal("6.35"), idempotency_key="dashboard-1")
    payload = event_payload("charge.refunded", stripe_standin.charge(paid.intent))

    deliver(api_client, payload)
    deliver(api_client, payload)  # a replay
    deliver(api_client, event_payload("charge.refunded", stripe_standin.charge(paid.intent)))  # a new id, same total

    (refund,) = Refund.objects.all()
    assert (refund.origin, refund.amount, refund.store_order_id) == ("provider", Decimal("6.35"), None)
    order = paid.order
    assert (order.status, order.needs_review) == (OrderStatus.PAID, True)
    assert (stock(paid.mug), stock(paid.pen), stock(paid.lamp)) == (7, 8, 9)
    assert {line.refunded_quantity for line in order.lines.all()} == {0}
    # 6.35 of 63.50 over what each store order holds: 50.50 and 13.00 -> 5.05 and 1.30 (of items).
    parts = {part.store_slug: part for part in StoreOrder.objects.filter(order=order)}
    assert (parts["first"].refunded_items, parts["second"].refunded_items) == (Decimal("5.05"), Decimal("1.30"))
    refund_entries = LedgerEntry.objects.filter(kind=Kind.REFUND, order=order)
    assert refund_entries.filter(account=Account.BUYER).get().amount == Decimal("6.35")
    assert refund_entries.filter(account=Account.COMMISSION).aggregate(total=Sum("amount"))["total"] == Decimal(
        "-0.64"
    )  # 0.51 + 0.13, each rounded half up
    assert LedgerEntry.objects.filter(order=order).aggregate(total=Sum("amount"))["total"] == 0


def test_after_an_outside_refund_a_line_refund_cannot_exceed_what_is_left(stripe_standin, paid, api_client, client_for):
    StripeProvider().refund(payment_ref=paid.intent, amount=Decimal("6.35"), idempotency_key="dashboard-1")
    deliver(api_client, event_payload("charge.refunded", stripe_standin.charge(paid.intent)))
    seller = client_for(paid.store.owner)
    everything = [
        {"id": paid.line(paid.mug).pk, "quantity": 3},
        {"id": paid.line(paid.pen).pk, "quantity": 2},
    ]

    too_much = post_refund(seller, paid.number, {"lines": everything, "reason": "x"})

    assert too_much.status_code == 409
    assert too_much.json()["code"] == "refund_exceeds"
    assert too_much.json()["refundable"] == "40.45"  # 45.50 of items less the 5.05 refunded outside
    assert len(stripe_standin.requests_to("POST", REFUNDS)) == 1  # the dashboard's only
    assert {line.refunded_quantity for line in paid.order.lines.all()} == {0}
    partial = post_refund(seller, paid.number, {"lines": everything[:1], "shipping": True, "reason": "x"})
    assert partial.status_code == 201, partial.json()
    assert partial.json()["amount"] == "42.50"
    payment = Payment.objects.get(reference=paid.intent)
    assert payment.amount_refunded == Decimal("48.85")
    assert payment.amount_refunded <= payment.amount_received


def test_sellers_cannot_ship_an_order_under_review(stripe_standin, paid, api_client, client_for):
    StripeProvider().refund(payment_ref=paid.intent, amount=Decimal("1.00"), idempotency_key="dashboard-1")
    deliver(api_client, event_payload("charge.refunded", stripe_standin.charge(paid.intent)))

    response = client_for(paid.store.owner).post(f"/api/v1/seller/orders/{paid.number}/ship/", {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "needs_review"
    assert StoreOrder.objects.get(order__number=paid.number, store=paid.store).status == "pending"
