"""The Stripe provider through the real SDK, against the local stand-in (nothing reaches api.stripe.com)."""

import json
import time
from decimal import Decimal

import pytest
import stripe
from django.core.exceptions import ImproperlyConfigured

from apps.payments.providers import get_provider
from apps.payments.providers.base import (
    InvalidPaymentMethodError,
    PaymentStatus,
    ProviderError,
    WebhookSignatureError,
)
from apps.payments.providers.stripe_provider import StripeProvider, stripe_check_keys
from apps.payments.tests.stripe_standin import (  # noqa: F401 (stripe_standin_fixture registers the fixture)
    event_payload,
    sign_payload,
    stripe_standin_fixture,
)

INTENTS = "/v1/payment_intents"


@pytest.fixture
def provider(stripe_standin):
    return StripeProvider()


def started(provider, amount="19.99", key="order-BZ1-attempt-1-start"):
    return provider.start(amount=Decimal(amount), currency="USD", reference="BZ1", idempotency_key=key)


def paid(provider):
    payment = started(provider)
    provider.confirm(payment_ref=payment.reference, payment_method="pm_card_visa", idempotency_key="confirm-1")
    return payment


# --- start, retrieve, confirm -------------------------------------------------------------


def test_start_creates_a_card_intent_in_minor_units(provider, stripe_standin):
    result = started(provider)

    assert result.reference.startswith("pi_")
    assert result.status == PaymentStatus.PENDING
    assert result.amount == Decimal("19.99")
    assert result.currency == "USD"
    assert result.client_secret.startswith(f"{result.reference}_secret_")
    assert "client_secret" not in result.raw
    (request,) = stripe_standin.requests_to("POST", INTENTS)
    assert request.body == "amount=1999&currency=usd&metadata[order]=BZ1&payment_method_types[0]=card"
    assert request.params == {
        "amount": "1999",
        "currency": "usd",
        "metadata": {"order": "BZ1"},
        "payment_method_types": ["card"],
    }
    assert request.headers["idempotency-key"] == "order-BZ1-attempt-1-start"
    assert request.headers["authorization"] == "Bearer sk_test_standin"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["stripe-version"]


@pytest.mark.parametrize(("amount", "minor"), [("0.1", "10"), ("19.995", "2000"), ("1000000.00", "100000000")])
def test_start_converts_with_the_money_rounding_rule(provider, stripe_standin, amount, minor):
    started(provider, amount=amount)

    assert stripe_standin.requests_to("POST", INTENTS)[0].params["amount"] == minor


def test_start_twice_with_one_key_makes_one_intent(provider, stripe_standin):
    first = started(provider)
    second = started(provider)

    assert second.reference == first.reference
    assert len(stripe_standin.intents) == 1
    assert [r.replayed for r in stripe_standin.requests_to("POST", INTENTS)] == [False, True]


def test_confirm_with_a_good_card_succeeds(provider, stripe_standin):
    payment = started(provider)

    result = provider.confirm(payment_ref=payment.reference, payment_method="pm_card_visa", idempotency_key="c-1")

    assert (result.reference, result.status, result.amount, result.failure_code) == (
        payment.reference,
        PaymentStatus.SUCCEEDED,
        Decimal("19.99"),
        "",
    )
    (request,) = stripe_standin.requests_to("POST", f"{INTENTS}/{payment.reference}/confirm")
    assert request.params == {"payment_method": "pm_card_visa"}
    assert request.headers["idempotency-key"] == "c-1"
    assert provider.retrieve(payment_ref=payment.reference).status == PaymentStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("method", "code", "message"),
    [
        # Stripe answers decline_code generic_decline ("no specific reason"): reported as card_declined.
        ("pm_card_chargeDeclined", "card_declined", "Your card was declined."),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds", "Your card has insufficient funds."),
    ],
)
def test_a_decline_is_a_failed_result_not_an_exception(provider, stripe_standin, method, code, message):
    payment = started(provider)

    result = provider.confirm(payment_ref=payment.reference, payment_method=method, idempotency_key="c-1")

    assert (result.status, result.failure_code, result.failure_message) == (PaymentStatus.FAILED, code, message)
    assert (result.reference, result.amount, result.currency) == (payment.reference, Decimal("19.99"), "USD")
    assert stripe_standin.requests[-1].status == 402
    retrieved = provider.retrieve(payment_ref=payment.reference)
    assert (retrieved.status, retrieved.failure_code) == (PaymentStatus.FAILED, code)


def test_a_replayed_decline_answers_the_same_and_charges_nothing_new(provider, stripe_standin):
    payment = started(provider)
    args = {"payment_ref": payment.reference, "payment_method": "pm_card_chargeDeclined", "idempotency_key": "c-1"}

    first, second = provider.confirm(**args), provider.confirm(**args)

    assert first.failure_code == second.failure_code == "card_declined"
    assert [r.replayed for r in stripe_standin.requests_to("POST", f"{INTENTS}/{payment.reference}/confirm")] == [
        False,
        True,
    ]


def test_a_declined_payment_can_be_paid_with_another_card(provider):
    payment = started(provider)
    provider.confirm(payment_ref=payment.reference, payment_method="pm_card_chargeDeclined", idempotency_key="c-1")

    result = provider.confirm(payment_ref=payment.reference, payment_method="pm_card_visa", idempotency_key="c-2")

    assert (result.status, result.failure_code) == (PaymentStatus.SUCCEEDED, "")


def test_confirming_a_paid_intent_again_answers_its_state(provider, stripe_standin):
    payment = paid(provider)

    result = provider.confirm(payment_ref=payment.reference, payment_method="pm_card_visa", idempotency_key="c-9")

    assert result.status == PaymentStatus.SUCCEEDED
    assert stripe_standin.intents[payment.reference]["amount_received"] == 1999


def test_an_unknown_payment_method_is_invalid(provider, stripe_standin):
    payment = started(provider)

    with pytest.raises(InvalidPaymentMethodError):
        provider.confirm(payment_ref=payment.reference, payment_method="pm_card_nope", idempotency_key="c-1")

    assert stripe_standin.requests[-1].status == 400
    assert stripe_standin.intents[payment.reference]["status"] == "requires_payment_method"


@pytest.mark.parametrize("method", ["4242424242424242", "4242 4242 4242 4242", "tok_visa", "", "pm_"])
def test_card_numbers_and_other_methods_are_refused_without_a_request(provider, stripe_standin, method):
    with pytest.raises(InvalidPaymentMethodError) as refused:
        provider.check_method(payment_method=method)
    with pytest.raises(InvalidPaymentMethodError):
        provider.confirm(payment_ref="pi_123", payment_method=method, idempotency_key="c-1")

    assert "4242" not in str(refused.value)
    assert stripe_standin.requests == []


def test_payment_method_ids_pass_the_check(provider):
    provider.check_method(payment_method="pm_card_chargeDeclinedInsufficientFunds")
    provider.check_method(payment_method="pm_1PxYz2AbCdEf")


def test_automatic_payment_methods_need_a_return_url_so_confirm_is_a_provider_error(provider, stripe_standin):
    sdk = stripe.StripeClient(stripe_standin.api_key, base_addresses={"api": stripe_standin.url})
    intent = sdk.v1.payment_intents.create({"amount": 1999, "currency": "usd"})  # no payment_method_types

    with pytest.raises(ProviderError) as failed:
        provider.confirm(payment_ref=intent.id, payment_method="pm_card_visa", idempotency_key="c-1")

    assert failed.value.retryable is False
    assert "return_url" in str(failed.value)
    assert stripe_standin.intents[intent.id]["status"] == "requires_payment_method"


# --- cancel and refund --------------------------------------------------------------------


def test_cancel_an_open_intent(provider, stripe_standin):
    payment = started(provider)

    result = provider.cancel(payment_ref=payment.reference, idempotency_key="x-1")

    assert result.status == PaymentStatus.CANCELLED
    (request,) = stripe_standin.requests_to("POST", f"{INTENTS}/{payment.reference}/cancel")
    assert request.headers["idempotency-key"] == "x-1"


def test_cancel_a_succeeded_intent_answers_succeeded(provider, stripe_standin):
    payment = paid(provider)

    result = provider.cancel(payment_ref=payment.reference, idempotency_key="x-1")

    assert (result.status, result.amount) == (PaymentStatus.SUCCEEDED, Decimal("19.99"))
    assert [(r.method, r.status) for r in stripe_standin.requests[-2:]] == [("POST", 400), ("GET", 200)]
    assert stripe_standin.intents[payment.reference]["status"] == "succeeded"


def test_refund_in_minor_units_once_per_key(provider, stripe_standin):
    payment = paid(provider)

    first = provider.refund(payment_ref=payment.reference, amount=Decimal("19.99"), idempotency_key="r-1")
    again = provider.refund(payment_ref=payment.reference, amount=Decimal("19.99"), idempotency_key="r-1")

    assert (first.status, first.amount) == ("succeeded", Decimal("19.99"))
    assert first.reference.startswith("re_")
    assert again.reference == first.reference
    assert len(stripe_standin.refunds) == 1
    request = stripe_standin.requests_to("POST", "/v1/refunds")[0]
    assert request.params == {"payment_intent": payment.reference, "amount": "1999"}
    assert request.headers["idempotency-key"] == "r-1"


def test_partial_refund(provider, stripe_standin):
    payment = paid(provider)

    result = provider.refund(payment_ref=payment.reference, amount=Decimal("5.00"), idempotency_key="r-1")

    assert result.amount == Decimal("5.00")
    assert stripe_standin.charge(payment.reference)["amount_refunded"] == 500


def test_refund_of_an_already_refunded_charge_answers_succeeded_without_a_new_refund(provider, stripe_standin):
    payment = paid(provider)
    provider.refund(payment_ref=payment.reference, amount=Decimal("19.99"), idempotency_key="r-dashboard")

    result = provider.refund(payment_ref=payment.reference, amount=Decimal("19.99"), idempotency_key="r-1")

    assert (result.reference, result.status, result.amount) == ("", "succeeded", Decimal("0.00"))
    assert len(stripe_standin.refunds) == 1


def test_refund_of_an_unpaid_intent_is_a_provider_error(provider, stripe_standin):
    payment = started(provider)

    with pytest.raises(ProviderError) as failed:
        provider.refund(payment_ref=payment.reference, amount=Decimal("19.99"), idempotency_key="r-1")

    assert failed.value.retryable is False
    assert stripe_standin.refunds == {}


# --- failures: retries, and no Stripe exception escapes ------------------------------------


def test_a_500_once_is_retried_with_the_same_key(provider, stripe_standin):
    stripe_standin.fail_next(1)

    result = started(provider)

    requests = stripe_standin.requests_to("POST", INTENTS)
    assert [r.status for r in requests] == [500, 200]
    assert {r.headers["idempotency-key"] for r in requests} == {"order-BZ1-attempt-1-start"}
    assert list(stripe_standin.intents) == [result.reference]


def test_500s_past_the_retries_are_a_retryable_provider_error(provider, stripe_standin):
    stripe_standin.fail_next(3)

    with pytest.raises(ProviderError) as failed:
        started(provider)

    assert failed.value.retryable is True
    assert isinstance(failed.value.__cause__, stripe.APIError)
    assert [r.status for r in stripe_standin.requests] == [500, 500, 500]
    assert stripe_standin.intents == {}


def test_a_failing_retrieve_is_a_provider_error(provider, stripe_standin):
    payment = started(provider)
    stripe_standin.fail_next(3, status=503)

    with pytest.raises(ProviderError) as failed:
        provider.retrieve(payment_ref=payment.reference)

    assert failed.value.retryable is True


def test_a_rate_limit_is_a_retryable_provider_error(provider, stripe_standin):
    stripe_standin.fail_next(1, status=429)

    with pytest.raises(ProviderError) as failed:
        started(provider)

    assert failed.value.retryable is True
    assert isinstance(failed.value.__cause__, stripe.RateLimitError)


def test_an_unreachable_stripe_is_a_retryable_provider_error(provider, stripe_standin):
    stripe_standin.stop()

    with pytest.raises(ProviderError) as failed:
        started(provider)

    assert failed.value.retryable is True
    assert isinstance(failed.value.__cause__, stripe.APIConnectionError)


def test_a_bad_key_is_a_provider_error_not_worth_retrying(provider, stripe_standin):
    stripe_standin.api_key = "sk_test_rotated"

    with pytest.raises(ProviderError) as failed:
        started(provider)

    assert failed.value.retryable is False
    assert isinstance(failed.value.__cause__, stripe.AuthenticationError)
    assert stripe_standin.requests[-1].status == 401


def test_a_key_reused_with_other_parameters_is_a_provider_error(provider, stripe_standin):
    started(provider, amount="19.99")

    with pytest.raises(ProviderError) as failed:
        started(provider, amount="25.00")

    assert failed.value.retryable is False
    assert len(stripe_standin.intents) == 1


def test_an_unknown_intent_is_a_provider_error(provider):
    with pytest.raises(ProviderError) as failed:
        provider.retrieve(payment_ref="pi_missing")

    assert failed.value.retryable is False


# --- webhooks -----------------------------------------------------------------------------


def signed(stripe_standin, payload, **kwargs):
    return sign_payload(payload, stripe_standin.webhook_secret, **kwargs)


def test_webhook_payment_intent_succeeded(provider, stripe_standin):
    payment = paid(provider)
    payload = event_payload("payment_intent.succeeded", stripe_standin.intents[payment.reference])

    event = provider.parse_webhook(payload=payload, signature=signed(stripe_standin, payload))

    assert event.id == json.loads(payload)["id"]
    assert (event.type, event.payment_reference, event.amount, event.currency, event.failure_code) == (
        "payment_intent.succeeded",
        payment.reference,
        Decimal("19.99"),
        "USD",
        "",
    )
    sent = json.loads(payload)
    assert sent["data"]["object"].pop("client_secret")  # the stand-in's event carries one...
    assert event.raw == sent  # ...which is the only thing left out of what Bazaar stores


@pytest.mark.parametrize(
    ("method", "code"),
    [("pm_card_chargeDeclined", "card_declined"), ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds")],
)
def test_webhook_payment_intent_payment_failed(provider, stripe_standin, method, code):
    payment = started(provider)
    provider.confirm(payment_ref=payment.reference, payment_method=method, idempotency_key="c-1")
    payload = event_payload("payment_intent.payment_failed", stripe_standin.intents[payment.reference])

    event = provider.parse_webhook(payload=payload, signature=signed(stripe_standin, payload))

    assert (event.payment_reference, event.amount, event.failure_code) == (payment.reference, Decimal("19.99"), code)


def test_webhook_charge_refunded(provider, stripe_standin):
    payment = paid(provider)
    provider.refund(payment_ref=payment.reference, amount=Decimal("19.99"), idempotency_key="r-1")
    payload = event_payload("charge.refunded", stripe_standin.charge(payment.reference))

    event = provider.parse_webhook(payload=payload, signature=signed(stripe_standin, payload))

    assert (event.type, event.payment_reference, event.amount, event.currency) == (
        "charge.refunded",
        payment.reference,
        Decimal("19.99"),
        "USD",
    )


def test_webhook_of_another_type_parses_without_a_payment(provider, stripe_standin):
    payload = event_payload("customer.created", {"id": "cus_1", "object": "customer"})

    event = provider.parse_webhook(payload=payload, signature=signed(stripe_standin, payload))

    assert (event.type, event.payment_reference, event.amount) == ("customer.created", "", None)


def test_webhook_just_inside_the_tolerance_is_accepted(provider, stripe_standin):
    payload = event_payload("customer.created", {"id": "cus_1", "object": "customer"})

    provider.parse_webhook(payload=payload, signature=signed(stripe_standin, payload, timestamp=int(time.time()) - 290))


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda standin, body: sign_payload(body, "whsec_wrong"), id="wrong-secret"),
        pytest.param(
            lambda standin, body: signed(standin, body, timestamp=int(time.time()) - 301), id="older-than-300s"
        ),
        pytest.param(lambda standin, body: "", id="missing-header"),
        pytest.param(lambda standin, body: "v1=abc", id="no-timestamp"),
        pytest.param(lambda standin, body: signed(standin, body + b" "), id="other-body"),
    ],
)
def test_webhook_with_a_bad_signature_is_refused(provider, stripe_standin, forge):
    payload = event_payload("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent", "amount": 1})

    with pytest.raises(WebhookSignatureError):
        provider.parse_webhook(payload=payload, signature=forge(stripe_standin, payload))


@pytest.mark.parametrize("payload", [b"not json", b"\xff\xfe", b'{"object": "list"}', b"[]"])
def test_webhook_garbage_is_refused_even_when_signed(provider, stripe_standin, payload):
    with pytest.raises(WebhookSignatureError):
        provider.parse_webhook(payload=payload, signature="t=1,v1=00")
    with pytest.raises(WebhookSignatureError):
        provider.parse_webhook(payload=payload, signature=signed(stripe_standin, payload))


def test_webhook_without_a_configured_secret_is_refused(provider, stripe_standin, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload = event_payload("customer.created", {"id": "cus_1", "object": "customer"})

    with pytest.raises(WebhookSignatureError):
        provider.parse_webhook(payload=payload, signature=sign_payload(payload, ""))


# --- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "env", "allow_live"),
    [
        ("sk_live_abc", "prod", False),
        ("sk_live_abc", "dev", True),
        ("sk_live_abc", "test", True),
        ("rk_live_abc", "prod", False),
        ("rk_live_abc", "dev", True),
        (" sk_live_abc", "dev", False),
    ],
)
def test_live_keys_are_refused(key, env, allow_live):
    with pytest.raises(ImproperlyConfigured) as refused:
        stripe_check_keys(secret_key=key, env=env, allow_live=allow_live)

    assert "abc" not in str(refused.value)


@pytest.mark.parametrize(
    ("key", "env", "allow_live"),
    [
        ("sk_live_abc", "prod", True),
        ("rk_live_abc", "prod", True),
        ("sk_test_abc", "dev", False),
        ("rk_test_abc", "prod", False),
        ("", "prod", False),
    ],
)
def test_test_keys_and_allowed_live_keys_pass(key, env, allow_live):
    stripe_check_keys(secret_key=key, env=env, allow_live=allow_live)


def test_the_provider_refuses_a_live_key_outside_prod(settings):
    settings.STRIPE_SECRET_KEY = "sk_live_abc"
    settings.STRIPE_ALLOW_LIVE = True

    with pytest.raises(ImproperlyConfigured):
        StripeProvider()


def test_the_provider_needs_a_secret_key(settings):
    settings.STRIPE_SECRET_KEY = ""

    with pytest.raises(ImproperlyConfigured):
        StripeProvider()


def test_stripe_is_a_configured_provider_name(stripe_standin):
    assert isinstance(get_provider(), StripeProvider)
    assert get_provider("stripe").name == "stripe"
