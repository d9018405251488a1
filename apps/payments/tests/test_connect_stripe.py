"""Sellers' payout accounts with Stripe Connect Express, through the API and the real SDK against the
local stand-in: the account is opened once whatever retries do, links reuse it, and its status
follows signed ``account.updated`` events (with the Connect endpoint's secret or the main one)."""

import json
import time
from datetime import UTC, datetime

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.connect import connect_account_status
from apps.payments.models import ConnectAccount, Payment, WebhookEvent
from apps.payments.providers.stripe_provider import StripeProvider
from apps.payments.tests.stripe_standin import (  # noqa: F401 (stripe_standin_fixture registers the fixture)
    WEBHOOK_SECRET,
    event_payload,
    intent_now,
    sign_payload,
    stripe_standin_fixture,
)

pytestmark = pytest.mark.django_db

ENDPOINT = "/api/v1/users/me/store/payout-account/"
WEBHOOK = "/api/v1/payments/stripe/webhook/"
ACCOUNTS = "/v1/accounts"
LINKS = "/v1/account_links"
CONNECT_SECRET = "whsec_connect_endpoint"


@pytest.fixture(autouse=True)
def _frontend(settings):
    settings.FRONTEND_URL = "https://shop.example"


@pytest.fixture
def account_ref(stripe_standin, seller_client) -> str:
    """The seller asked for a link once: the store has its account, still onboarding."""
    assert seller_client.post(ENDPOINT).status_code == 201
    return ConnectAccount.objects.get().reference


def complete(standin, account: str, **kwargs):
    """Onboarding finished at Stripe, and its account.updated delivered and processed."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return standin.complete_onboarding(account, client=APIClient(), **kwargs)


def deliver(payload: bytes, secret: str):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return APIClient().post(
            WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign_payload(payload, secret)
        )


# --- the link -----------------------------------------------------------------------------------


def test_the_first_link_opens_an_express_account_through_the_sdk(stripe_standin, seller, seller_client):
    response = seller_client.post(ENDPOINT)

    assert response.status_code == 201
    (created,) = stripe_standin.requests_to("POST", ACCOUNTS)
    assert created.params == {
        "type": "express",
        "email": seller.email,
        "capabilities": {"transfers": {"requested": "true"}},
    }
    assert created.headers["idempotency-key"] == f"store-{seller.store.slug}-connect-account"
    (account_id,) = stripe_standin.accounts
    (link_request,) = stripe_standin.requests_to("POST", LINKS)
    assert link_request.params == {
        "account": account_id,
        "type": "account_onboarding",
        "refresh_url": "https://shop.example/seller/payouts/refresh",
        "return_url": "https://shop.example/seller/payouts/return",
    }
    (link,) = stripe_standin.account_links
    assert response.json() == {
        "url": link["url"],
        "expires_at": datetime.fromtimestamp(link["expires_at"], tz=UTC).isoformat().replace("+00:00", "Z"),
    }
    account = ConnectAccount.objects.get()
    assert (account.store, account.provider, account.reference, account.status) == (
        seller.store,
        "stripe",
        account_id,
        "onboarding",
    )


def test_a_second_link_reuses_the_account(stripe_standin, seller_client, account_ref):
    response = seller_client.post(ENDPOINT)

    assert response.status_code == 201
    assert len(stripe_standin.requests_to("POST", ACCOUNTS)) == 1
    assert [r.params["account"] for r in stripe_standin.requests_to("POST", LINKS)] == [account_ref, account_ref]
    assert response.json()["url"] == stripe_standin.account_links[-1]["url"]
    assert ConnectAccount.objects.count() == 1


def test_an_account_whose_answer_was_lost_is_found_again_by_its_key(settings, stripe_standin, seller, seller_client):
    settings.PAYMENT_PROVIDER_BUDGET_SECONDS = 0.5
    stripe_standin.slow_next(1, seconds=1.5)  # Stripe opens the account; the answer comes too late

    lost = seller_client.post(ENDPOINT)

    assert (lost.status_code, lost.json()["code"]) == (503, "payout_provider_unavailable")
    assert not ConnectAccount.objects.exists()
    assert len(stripe_standin.accounts) == 1
    settings.PAYMENT_PROVIDER_BUDGET_SECONDS = 20.0
    time.sleep(1.1)  # the stand-in's late answer is done

    retried = seller_client.post(ENDPOINT)

    assert retried.status_code == 201
    requests = stripe_standin.requests_to("POST", ACCOUNTS)
    assert [r.replayed for r in requests] == [False, True]
    assert {r.headers["idempotency-key"] for r in requests} == {f"store-{seller.store.slug}-connect-account"}
    (account_id,) = stripe_standin.accounts
    assert ConnectAccount.objects.get().reference == account_id


def test_stripe_down_is_503_and_records_nothing(stripe_standin, seller_client):
    stripe_standin.fail_next(3, status=500)  # the SDK's two retries too

    response = seller_client.post(ENDPOINT)

    assert (response.status_code, response.json()["code"]) == (503, "payout_provider_unavailable")
    assert not ConnectAccount.objects.exists()
    assert stripe_standin.accounts == {}


def test_a_link_failing_after_the_account_keeps_the_account_for_the_retry(monkeypatch, stripe_standin, seller_client):
    original = StripeProvider.connect_account_link
    calls = []

    def failing_once(self, **kwargs):
        calls.append(kwargs)
        if len(calls) == 1:  # Stripe fails the link (and the SDK's retries) after opening the account
            stripe_standin.fail_next(3, status=503)
        return original(self, **kwargs)

    monkeypatch.setattr(StripeProvider, "connect_account_link", failing_once)

    first = seller_client.post(ENDPOINT)
    second = seller_client.post(ENDPOINT)

    assert (first.status_code, second.status_code) == (503, 201)
    assert [r.status for r in stripe_standin.requests_to("POST", LINKS)] == [503, 503, 503, 200]
    assert len(stripe_standin.requests_to("POST", ACCOUNTS)) == 1
    assert ConnectAccount.objects.count() == 1


# --- account.updated ------------------------------------------------------------------------------


def test_account_updated_with_the_main_secret_enables_the_account(stripe_standin, seller, account_ref):
    response = complete(stripe_standin, account_ref)

    assert response.status_code == 200
    assert connect_account_status(store=seller.store) == ("enabled", True)
    stored = WebhookEvent.objects.get()
    assert (stored.type, stored.payment_reference) == ("account.updated", "")
    assert stored.outcome == f"account {account_ref} enabled"
    assert stored.payload["account"] == account_ref


def test_account_updated_with_the_connect_secret(settings, stripe_standin, seller, account_ref):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET

    response = complete(stripe_standin, account_ref, secret=CONNECT_SECRET)

    assert response.status_code == 200
    assert connect_account_status(store=seller.store) == ("enabled", True)


def test_with_a_connect_secret_set_the_main_endpoints_events_still_verify(
    settings, stripe_standin, buyer, buyer_client, mug
):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET
    fill_cart(buyer, (mug, 1))
    number = buyer_client.post("/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json").json()["number"]
    payment = Payment.objects.get(order__number=number)
    StripeProvider().confirm(payment_ref=payment.reference, payment_method="pm_card_visa", idempotency_key="js-1")

    response = deliver(
        event_payload("payment_intent.succeeded", intent_now(stripe_standin, payment.reference)), WEBHOOK_SECRET
    )

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert payment.charge_reference == stripe_standin.intents[payment.reference]["latest_charge"]


def test_the_connect_secret_is_not_accepted_when_unset(stripe_standin, seller, account_ref):
    response = complete(stripe_standin, account_ref, secret=CONNECT_SECRET)

    assert (response.status_code, response.json()["code"]) == (400, "invalid_signature")
    assert connect_account_status(store=seller.store) == ("onboarding", False)


@pytest.mark.parametrize("connect_secret", ["", CONNECT_SECRET], ids=["main-only", "both"])
def test_a_bad_signature_is_400_and_changes_nothing(settings, stripe_standin, seller, account_ref, connect_secret):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = connect_secret
    before = ConnectAccount.objects.get()

    response = complete(stripe_standin, account_ref, secret="whsec_someone_else")

    assert (response.status_code, response.json()["code"]) == (400, "invalid_signature")
    assert not WebhookEvent.objects.exists()
    after = ConnectAccount.objects.get()
    assert (after.status, after.updated_at) == ("onboarding", before.updated_at)


def test_a_replayed_event_changes_nothing(stripe_standin, seller, account_ref, django_capture_on_commit_callbacks):
    stripe_standin.accounts[account_ref].update(details_submitted=True, payouts_enabled=True)
    payload = event_payload("account.updated", stripe_standin.accounts[account_ref], account=account_ref)
    assert deliver(payload, WEBHOOK_SECRET).status_code == 200
    account, stored = ConnectAccount.objects.get(), WebhookEvent.objects.get()
    ConnectAccount.objects.update(payouts_enabled=False)  # something later said otherwise

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = deliver(payload, WEBHOOK_SECRET)

    assert response.status_code == 200
    assert callbacks == []
    again = ConnectAccount.objects.get()
    assert (again.payouts_enabled, again.state_as_of) == (False, account.state_as_of)
    assert list(WebhookEvent.objects.values_list("pk", "processed_at")) == [(stored.pk, stored.processed_at)]


def test_status_transitions_none_onboarding_restricted_enabled(stripe_standin, seller, seller_client):
    assert connect_account_status(store=seller.store) == ("none", False)
    seller_client.post(ENDPOINT)
    account_id = ConnectAccount.objects.get().reference
    assert connect_account_status(store=seller.store) == ("onboarding", False)

    complete(stripe_standin, account_id, payouts_enabled=False)
    assert connect_account_status(store=seller.store) == ("restricted", False)
    time.sleep(1.01)  # events are stamped to the second

    complete(stripe_standin, account_id)
    assert connect_account_status(store=seller.store) == ("enabled", True)
    assert stripe_standin.accounts[account_id]["capabilities"] == {"transfers": "active"}


def test_an_older_event_arriving_late_does_not_undo_a_newer_one(stripe_standin, seller, account_ref):
    onboarding = json.loads(json.dumps(stripe_standin.accounts[account_ref]))
    late = json.loads(event_payload("account.updated", onboarding, account=account_ref))
    late["created"] -= 60
    complete(stripe_standin, account_ref)

    response = deliver(json.dumps(late).encode(), WEBHOOK_SECRET)

    assert response.status_code == 200
    assert connect_account_status(store=seller.store) == ("enabled", True)


def test_an_event_for_an_unknown_account_is_stored_and_ignored(stripe_standin, seller, account_ref):
    other = StripeProvider().connect_account_create(email="x@example.com", country=None, idempotency_key="other")

    complete(stripe_standin, other.reference)

    assert WebhookEvent.objects.get().outcome == "ignored: unknown account"
    assert connect_account_status(store=seller.store) == ("onboarding", False)


# --- the charge a transfer will name -------------------------------------------------------------------


def test_paying_records_the_charge(stripe_standin, buyer, buyer_client, mug):
    fill_cart(buyer, (mug, 1))
    number = buyer_client.post("/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json").json()["number"]

    response = buyer_client.post(f"/api/v1/orders/{number}/pay/", {"payment_method": "pm_card_visa"}, format="json")

    assert response.status_code == 200, response.json()
    payment = Payment.objects.get(order__number=number)
    assert payment.charge_reference == stripe_standin.intents[payment.reference]["latest_charge"]
    assert payment.charge_reference.startswith("ch_")
