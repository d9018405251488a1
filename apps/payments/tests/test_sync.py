"""``sync_payments``: ask Stripe (the local stand-in) about every open payment and apply the answer, for
webhooks that never arrived. Safe to run at any time, repeatedly."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from apps.accounts.tests.factories import UserFactory
from apps.catalog.tests.factories import ProductFactory
from apps.orders.models import Order, OrderEvent
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.models import Payment, WebhookEvent
from apps.payments.providers.stripe_provider import StripeProvider
from apps.payments.tests.stripe_standin import stripe_standin_fixture  # noqa: F401 (registers the fixture)

pytestmark = pytest.mark.django_db

INTENTS = "/v1/payment_intents"


def checkout(client_for) -> str:
    """A pending_payment order (2 x 12.50 USD) with an open PaymentIntent; returns its number."""
    buyer, mug = UserFactory(), ProductFactory(price=Decimal("12.50"), stock=5)
    fill_cart(buyer, (mug, 2))
    response = client_for(buyer).post("/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["number"]


def intent_of(number: str) -> str:
    return Payment.objects.get(order__number=number).reference


def confirm_in_browser(number: str, payment_method: str = "pm_card_visa") -> None:
    """Stripe.js confirms the intent at Stripe; the webhook that should follow is lost."""
    StripeProvider().confirm(
        payment_ref=intent_of(number), payment_method=payment_method, idempotency_key=f"stripe-js-{number}"
    )


def sync_payments() -> str:
    out = StringIO()
    call_command("sync_payments", stdout=out)
    return out.getvalue()


def test_sync_pays_an_order_whose_webhook_never_arrived_and_a_second_run_changes_nothing(
    stripe_standin, django_capture_on_commit_callbacks, client_for
):
    number = checkout(client_for)
    confirm_in_browser(number)
    assert Payment.objects.get(order__number=number).status == "pending"
    assert stripe_standin.intents[intent_of(number)]["status"] == "succeeded"

    with django_capture_on_commit_callbacks(execute=True):
        output = sync_payments()

    assert output == "checked 1 open payments\n"
    order = Order.objects.get(number=number)
    payment = Payment.objects.get(order=order)
    assert order.status == "paid"
    assert (payment.status, payment.failure_code) == ("succeeded", "")
    assert list(OrderEvent.objects.filter(order=order).values_list("to_status", "note")) == [
        ("pending_payment", "checkout"),
        ("paid", "reconciled with stripe"),
    ]
    store_name = order.lines.get().store_name
    assert sorted(message.subject for message in mail.outbox) == [  # the seller's notice and the buyer's confirmation
        f"New order {number} for {store_name}",
        f"Your Bazaar order {number} is confirmed",
    ]
    assert len(stripe_standin.requests_to("GET", f"{INTENTS}/{payment.reference}")) == 1
    assert not WebhookEvent.objects.exists()
    requests_before = len(stripe_standin.requests)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        output = sync_payments()

    assert output == "checked 0 open payments\n"
    assert callbacks == []
    assert len(mail.outbox) == 2
    assert len(stripe_standin.requests) == requests_before
    assert Order.objects.get(pk=order.pk).updated_at == order.updated_at
    assert Payment.objects.get(pk=payment.pk).updated_at == payment.updated_at
    assert OrderEvent.objects.filter(order=order).count() == 2


def test_sync_leaves_unpaid_orders_payable(stripe_standin, client_for):
    untouched, declined = checkout(client_for), checkout(client_for)
    confirm_in_browser(declined, "pm_card_chargeDeclinedInsufficientFunds")

    output = sync_payments()

    assert output == "checked 2 open payments\n"
    assert list(Order.objects.order_by("pk").values_list("status", flat=True)) == ["pending_payment"] * 2
    assert Payment.objects.get(order__number=untouched).status == "pending"
    declined_payment = Payment.objects.get(order__number=declined)
    assert (declined_payment.status, declined_payment.failure_code) == ("failed", "insufficient_funds")
    assert OrderEvent.objects.exclude(to_status="pending_payment").count() == 0
    assert stripe_standin.requests_to("POST", "/v1/refunds") == []


def test_an_intent_stripe_cannot_find_does_not_stop_the_others(stripe_standin, client_for):
    lost, paid = checkout(client_for), checkout(client_for)
    lost_intent = intent_of(lost)
    del stripe_standin.intents[lost_intent]  # e.g. made under a Stripe account whose key was since rotated
    confirm_in_browser(paid)

    output = sync_payments()

    assert output == "checked 1 open payments\n"
    assert Order.objects.get(number=paid).status == "paid"
    assert Order.objects.get(number=lost).status == "pending_payment"
    assert Payment.objects.get(order__number=lost).status == "pending"
    assert [r.status for r in stripe_standin.requests_to("GET", f"{INTENTS}/{lost_intent}")] == [404]


def test_stripe_failing_for_one_payment_does_not_stop_the_others_and_the_next_run_catches_up(
    stripe_standin, client_for
):
    first, second = checkout(client_for), checkout(client_for)
    confirm_in_browser(first)
    confirm_in_browser(second)
    stripe_standin.fail_next(3)  # every try (the SDK retries twice) for whichever payment is fetched first

    output = sync_payments()

    assert output == "checked 1 open payments\n"
    statuses = dict(Order.objects.filter(number__in=[first, second]).values_list("number", "status"))
    assert sorted(statuses.values()) == ["paid", "pending_payment"]
    (unlucky,) = [number for number, status in statuses.items() if status == "pending_payment"]
    assert Payment.objects.get(order__number=unlucky).status == "pending"
    assert [r.status for r in stripe_standin.requests_to("GET", f"{INTENTS}/{intent_of(unlucky)}")] == [500] * 3

    output = sync_payments()

    assert output == "checked 1 open payments\n"
    assert set(Order.objects.filter(number__in=[first, second]).values_list("status", flat=True)) == {"paid"}
