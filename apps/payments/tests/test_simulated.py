"""The simulated payment provider, called directly: its books live in the SimulatedPayment table."""

from decimal import Decimal

import pytest

from apps.payments.models import SimulatedPayment
from apps.payments.providers import get_provider
from apps.payments.providers.base import (
    InvalidPaymentMethodError,
    PaymentResult,
    PaymentStatus,
    ProviderError,
    RefundResult,
    WebhookSignatureError,
)
from apps.payments.providers.simulated import SimulatedProvider

pytestmark = pytest.mark.django_db

AMOUNT = Decimal("42.50")


class DottedPathProvider(SimulatedProvider):
    """Proves that PAYMENT_PROVIDER may name any class by its dotted path."""

    name = "dotted"


@pytest.fixture
def provider() -> SimulatedProvider:
    return SimulatedProvider()


def start(provider: SimulatedProvider, key: str = "order-B1-attempt-1-start") -> PaymentResult:
    return provider.start(amount=AMOUNT, currency="USD", reference="B1", idempotency_key=key)


@pytest.fixture
def pending(provider) -> PaymentResult:
    return start(provider)


@pytest.fixture
def succeeded(provider, pending) -> PaymentResult:
    return provider.confirm(payment_ref=pending.reference, payment_method="pm_card_visa", idempotency_key="confirm-1")


def stored(result: PaymentResult) -> SimulatedPayment:
    return SimulatedPayment.objects.get(reference=result.reference)


# --- start ------------------------------------------------------------------------------------


def test_start_opens_a_pending_payment(provider):
    result = start(provider)

    assert result.status == PaymentStatus.PENDING
    assert result.reference.startswith("sim_pi_")
    assert len(result.reference) == len("sim_pi_") + 24
    assert result.amount == Decimal("42.50")
    assert result.currency == "USD"
    assert result.failure_code == ""
    assert result.failure_message == ""
    assert result.raw == {"order": "B1"}
    row = SimulatedPayment.objects.get()
    assert (row.reference, row.order_reference, row.amount, row.currency, row.status) == (
        result.reference,
        "B1",
        Decimal("42.50"),
        "USD",
        PaymentStatus.PENDING,
    )


def test_start_twice_with_the_same_key_answers_the_same_payment(provider):
    first = start(provider, key="same")

    again = start(provider, key="same")

    assert again == first
    assert SimulatedPayment.objects.count() == 1


def test_start_with_another_key_opens_another_payment(provider):
    first = start(provider, key="one")

    second = start(provider, key="two")

    assert second.reference != first.reference
    assert SimulatedPayment.objects.count() == 2


def test_start_that_loses_a_race_for_its_key_answers_the_winners_payment(provider, django_assert_num_queries):
    """No lookup before the insert (a new key costs one statement): a second start under the key,
    whether a retry or a request racing the first, collides on the unique key and answers the
    winner's payment. Inside a transaction, the insert runs in a savepoint so the collision does
    not break it: savepoint, insert, rollback to it and release it, the winner's row."""
    winner = start(provider, key="raced")

    with django_assert_num_queries(5):
        loser = start(provider, key="raced")

    assert loser == winner
    assert SimulatedPayment.objects.count() == 1


def test_start_with_a_new_key_is_one_insert(provider, django_assert_num_queries):
    """Savepoint, insert, release: the test runs inside a transaction; on its own (autocommit) it
    is the insert alone."""
    with django_assert_num_queries(3):
        start(provider, key="new")


# --- confirm ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "status", "failure_code", "failure_message"),
    [
        ("pm_card_visa", PaymentStatus.SUCCEEDED, "", ""),
        ("4242424242424242", PaymentStatus.SUCCEEDED, "", ""),
        ("pm_card_chargeDeclined", PaymentStatus.FAILED, "card_declined", "Your card was declined."),
        ("4000000000000002", PaymentStatus.FAILED, "card_declined", "Your card was declined."),
        (
            "pm_card_chargeDeclinedInsufficientFunds",
            PaymentStatus.FAILED,
            "insufficient_funds",
            "Your card has insufficient funds.",
        ),
        ("4000000000009995", PaymentStatus.FAILED, "insufficient_funds", "Your card has insufficient funds."),
    ],
)
def test_confirm_outcome_follows_the_payment_method(provider, pending, method, status, failure_code, failure_message):
    result = provider.confirm(payment_ref=pending.reference, payment_method=method, idempotency_key="confirm-1")

    assert (result.reference, result.status, result.failure_code, result.failure_message) == (
        pending.reference,
        status,
        failure_code,
        failure_message,
    )
    assert result.amount == AMOUNT
    row = stored(pending)
    assert (row.status, row.failure_code) == (status, failure_code)
    assert provider.retrieve(payment_ref=pending.reference) == result


@pytest.mark.parametrize("method", ["pm_card_mastercard", "", "4111111111111111", "PM_CARD_VISA"])
def test_confirm_with_an_unknown_method_raises_and_changes_nothing(provider, pending, method):
    with pytest.raises(InvalidPaymentMethodError):
        provider.confirm(payment_ref=pending.reference, payment_method=method, idempotency_key="confirm-1")

    row = stored(pending)
    assert (row.status, row.failure_code) == (PaymentStatus.PENDING, "")


def test_check_method_accepts_the_documented_methods_and_refuses_others(provider):
    for method in ["pm_card_visa", "pm_card_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds"]:
        provider.check_method(payment_method=method)
    for number in ["4242424242424242", "4000000000000002", "4000000000009995"]:
        provider.check_method(payment_method=number)

    with pytest.raises(InvalidPaymentMethodError):
        provider.check_method(payment_method="pm_card_amex")


def test_confirm_after_a_decline_with_a_good_method_succeeds(provider, pending):
    provider.confirm(payment_ref=pending.reference, payment_method="pm_card_chargeDeclined", idempotency_key="c-1")

    result = provider.confirm(payment_ref=pending.reference, payment_method="pm_card_visa", idempotency_key="c-2")

    assert (result.status, result.failure_code) == (PaymentStatus.SUCCEEDED, "")
    assert (stored(pending).status, stored(pending).failure_code) == (PaymentStatus.SUCCEEDED, "")


def test_confirm_of_a_succeeded_payment_leaves_it_succeeded(provider, succeeded):
    result = provider.confirm(
        payment_ref=succeeded.reference, payment_method="pm_card_chargeDeclined", idempotency_key="confirm-2"
    )

    assert result == succeeded
    row = stored(succeeded)
    assert (row.status, row.failure_code, row.refund_reference) == (PaymentStatus.SUCCEEDED, "", "")
    assert SimulatedPayment.objects.count() == 1


def test_confirm_of_a_cancelled_payment_does_not_charge(provider, pending):
    provider.cancel(payment_ref=pending.reference, idempotency_key="cancel-1")

    result = provider.confirm(payment_ref=pending.reference, payment_method="pm_card_visa", idempotency_key="c-1")

    assert result.status == PaymentStatus.CANCELLED
    assert stored(pending).status == PaymentStatus.CANCELLED


def test_confirm_of_an_unknown_payment_raises_provider_error(provider):
    with pytest.raises(ProviderError) as raised:
        provider.confirm(payment_ref="sim_pi_nope", payment_method="pm_card_visa", idempotency_key="c-1")

    assert raised.value.retryable is False
    assert not SimulatedPayment.objects.exists()


# --- refund -----------------------------------------------------------------------------------


def test_refund_of_a_succeeded_payment(provider, succeeded):
    refund = provider.refund(payment_ref=succeeded.reference, amount=AMOUNT, idempotency_key="refund-1")

    assert isinstance(refund, RefundResult)
    assert refund.status == "succeeded"
    assert refund.reference.startswith("sim_re_")
    assert refund.amount == AMOUNT
    row = stored(succeeded)
    assert (row.status, row.refund_reference) == (PaymentStatus.REFUNDED, refund.reference)
    assert provider.retrieve(payment_ref=succeeded.reference).status == PaymentStatus.REFUNDED


def test_a_retried_refund_answers_the_first_and_refunds_nothing_more(provider, succeeded):
    first = provider.refund(payment_ref=succeeded.reference, amount=AMOUNT, idempotency_key="refund-1")

    second = provider.refund(payment_ref=succeeded.reference, amount=AMOUNT, idempotency_key="refund-1")

    assert second == first
    row = stored(succeeded)
    assert (row.status, row.refund_reference, row.amount_refunded) == (PaymentStatus.REFUNDED, first.reference, AMOUNT)


def test_a_refund_of_a_refunded_payment_says_so_as_stripe_does(provider, succeeded):
    first = provider.refund(payment_ref=succeeded.reference, amount=AMOUNT, idempotency_key="refund-1")

    second = provider.refund(payment_ref=succeeded.reference, amount=AMOUNT, idempotency_key="refund-2")

    assert second == RefundResult(reference="", status="succeeded", amount=Decimal("0.00"))  # charge_already_refunded
    row = stored(succeeded)
    assert (row.status, row.refund_reference) == (PaymentStatus.REFUNDED, first.reference)


@pytest.mark.parametrize("method", [None, "pm_card_chargeDeclined"], ids=["pending", "declined"])
def test_refund_of_an_unpaid_payment_fails_and_changes_nothing(provider, pending, method):
    if method:
        provider.confirm(payment_ref=pending.reference, payment_method=method, idempotency_key="c-1")
    before = stored(pending).status

    with pytest.raises(ProviderError) as refused:
        provider.refund(payment_ref=pending.reference, amount=AMOUNT, idempotency_key="refund-1")

    assert refused.value.retryable is False  # as Stripe's 400: nothing to retry
    row = stored(pending)
    assert (row.status, row.refund_reference) == (before, "")


def test_refund_of_an_unknown_payment_raises_provider_error(provider):
    with pytest.raises(ProviderError):
        provider.refund(payment_ref="sim_pi_nope", amount=AMOUNT, idempotency_key="refund-1")


# --- cancel -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", [None, "pm_card_chargeDeclined"], ids=["pending", "declined"])
def test_cancel_of_an_unpaid_payment_cancels_it(provider, pending, method):
    if method:
        provider.confirm(payment_ref=pending.reference, payment_method=method, idempotency_key="c-1")

    result = provider.cancel(payment_ref=pending.reference, idempotency_key="cancel-1")

    assert result.status == PaymentStatus.CANCELLED
    assert stored(pending).status == PaymentStatus.CANCELLED


def test_cancel_of_a_succeeded_payment_leaves_it_succeeded(provider, succeeded):
    result = provider.cancel(payment_ref=succeeded.reference, idempotency_key="cancel-1")

    assert result == succeeded
    row = stored(succeeded)
    assert (row.status, row.refund_reference) == (PaymentStatus.SUCCEEDED, "")


def test_cancel_twice_answers_the_same(provider, pending):
    first = provider.cancel(payment_ref=pending.reference, idempotency_key="cancel-1")

    assert provider.cancel(payment_ref=pending.reference, idempotency_key="cancel-1") == first


# --- retrieve, webhooks, choosing the provider -------------------------------------------------


def test_retrieve_answers_the_stored_state(provider, pending):
    assert provider.retrieve(payment_ref=pending.reference) == pending


def test_retrieve_of_an_unknown_reference_raises_provider_error(provider):
    with pytest.raises(ProviderError) as raised:
        provider.retrieve(payment_ref="sim_pi_nope")

    assert raised.value.retryable is False


def test_the_simulated_provider_accepts_no_webhook(provider):
    with pytest.raises(WebhookSignatureError):
        provider.parse_webhook(payload=b'{"id": "evt_1", "type": "payment_intent.succeeded"}', signature="t=1,v1=x")


def test_get_provider_is_the_simulated_one_by_default(settings):
    settings.PAYMENT_PROVIDER = "simulated"

    provider = get_provider()

    assert type(provider) is SimulatedProvider
    assert provider.name == "simulated"


def test_get_provider_takes_a_dotted_path(settings):
    settings.PAYMENT_PROVIDER = "apps.payments.tests.test_simulated.DottedPathProvider"

    provider = get_provider()

    assert type(provider) is DottedPathProvider
    assert provider.name == "dotted"


def test_get_provider_by_a_stored_payments_provider_name_ignores_the_setting(settings):
    settings.PAYMENT_PROVIDER = "apps.payments.tests.test_simulated.DottedPathProvider"

    assert type(get_provider("simulated")) is SimulatedProvider


def test_get_provider_with_an_unknown_name_raises_import_error(settings):
    settings.PAYMENT_PROVIDER = "no_such_provider"

    with pytest.raises(ImportError):
        get_provider()
