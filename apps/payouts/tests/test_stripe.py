"""Transfers and reversals through Stripe's SDK, against the local stand-in (apps/payments/tests/stripe_standin.py)."""

from decimal import Decimal
from unittest import mock

import pytest

from apps.ledger.models import Kind, LedgerEntry
from apps.ledger.selectors import order_ledger_sum, store_balance
from apps.payments.models import Payment
from apps.payments.providers.base import ProviderError
from apps.payments.providers.stripe_provider import StripeProvider
from apps.payments.tests.stripe_standin import stripe_standin_fixture  # noqa: F401 (registers the fixture)
from apps.payouts.models import TransferStatus
from apps.payouts.services import payouts_release
from apps.payouts.tests.factories import connect, refund, released, sell

pytestmark = pytest.mark.django_db

TRANSFERS = "/v1/transfers"


def test_a_transfer_lost_on_the_way_back_is_asked_again_with_its_key_and_made_once(stripe_standin, store, mug):
    order = released(sell((mug, 2)))
    connect(store, standin=stripe_standin)
    real = StripeProvider.transfer_create
    answers = []

    def answer_lost(self, **kwargs):
        answers.append(real(self, **kwargs))  # Stripe made the transfer; its answer never arrives
        raise ProviderError("timed out reading the answer")

    with mock.patch.object(StripeProvider, "transfer_create", answer_lost):
        (pending,) = payouts_release()
    assert pending.status == TransferStatus.PENDING
    assert not LedgerEntry.objects.filter(kind=Kind.TRANSFER).exists()

    (transfer,) = payouts_release()

    first, second = stripe_standin.requests_to("POST", TRANSFERS)
    assert (
        first.headers["idempotency-key"] == second.headers["idempotency-key"] == f"transfer-{order.number}-{store.slug}"
    )
    assert (first.body, second.replayed) == (second.body, True)
    assert len(stripe_standin.transfers) == 1  # one transfer at Stripe
    assert (transfer.status, transfer.reference) == (TransferStatus.SUCCEEDED, answers[0].reference)
    charge = Payment.objects.get(order=order, settles_order=True).charge_reference
    assert charge  # the PaymentIntent's latest charge, recorded with the payment's success
    assert first.params == {
        "amount": "2250",
        "currency": "usd",
        "destination": store.payout_account.reference,
        "transfer_group": order.number,
        "source_transaction": charge,
        "metadata": {"order": order.number, "store": store.slug},
    }
    assert store_balance(store=store).transferred == Decimal("22.50")


def test_a_refund_after_the_transfer_reverses_it_at_stripe(stripe_standin, store, mug):
    order = released(sell((mug, 2)))
    connect(store, standin=stripe_standin)
    (transfer,) = payouts_release()

    refund(order, "25.00")
    payouts_release()

    (reversal,) = stripe_standin.requests_to("POST", f"{TRANSFERS}/{transfer.reference}/reversals")
    assert reversal.params == {"amount": "2250"}
    assert reversal.headers["idempotency-key"] == f"{transfer.idempotency_key}-reversal-1"
    assert store_balance(store=store).transferred == 0
    assert order_ledger_sum(order_id=order.pk) == 0
