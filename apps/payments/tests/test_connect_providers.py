"""The providers' abilities for paying sellers (connected accounts, onboarding links, transfers and
their reversals): Stripe through the real SDK against the local stand-in, and the simulated provider
with its own books. Both answer the same contract (providers/base.py)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.payments.models import (
    SimulatedAccountLink,
    SimulatedConnectAccount,
    SimulatedTransfer,
    SimulatedTransferReversal,
)
from apps.payments.providers.base import PaymentStatus, ProviderError
from apps.payments.providers.simulated import SimulatedProvider, charge_reference
from apps.payments.providers.stripe_provider import StripeProvider
from apps.payments.tests.stripe_standin import (  # noqa: F401 (stripe_standin_fixture registers the fixture)
    stripe_standin_fixture,
)

pytestmark = pytest.mark.django_db

ACCOUNTS = "/v1/accounts"
TRANSFERS = "/v1/transfers"


@pytest.fixture
def stripe_provider(stripe_standin):
    return StripeProvider()


def stripe_charge(provider: StripeProvider, amount: str = "50.00", key: str = "order-BZ1-attempt-1") -> str:
    """A succeeded payment at the stand-in; returns its charge (the intent's latest_charge)."""
    payment = provider.start(amount=Decimal(amount), currency="USD", reference="BZ1", idempotency_key=f"{key}-start")
    result = provider.confirm(payment_ref=payment.reference, payment_method="pm_card_visa", idempotency_key=f"{key}-c")
    assert result.status == PaymentStatus.SUCCEEDED
    return result.charge_reference


def enabled_stripe_account(provider: StripeProvider, standin) -> str:
    account = provider.connect_account_create(email="s@example.com", country="US", idempotency_key="store-s-connect")
    standin.accounts[account.reference].update(details_submitted=True, payouts_enabled=True)
    standin.accounts[account.reference]["capabilities"]["transfers"] = "active"
    return account.reference


# --- Stripe: accounts and links ---------------------------------------------------------------


def test_stripe_account_create_asks_for_an_express_account_with_transfers(stripe_provider, stripe_standin):
    result = stripe_provider.connect_account_create(
        email="seller@example.com", country="US", idempotency_key="store-mugs-connect-account"
    )

    assert result.reference.startswith("acct_")
    assert (result.details_submitted, result.payouts_enabled) == (False, False)
    (request,) = stripe_standin.requests_to("POST", ACCOUNTS)
    assert request.params == {
        "type": "express",
        "email": "seller@example.com",
        "country": "US",
        "capabilities": {"transfers": {"requested": "true"}},
    }
    assert request.headers["idempotency-key"] == "store-mugs-connect-account"
    assert stripe_standin.accounts[result.reference]["capabilities"] == {"transfers": "inactive"}


def test_stripe_account_create_retried_with_the_same_key_makes_one_account(stripe_provider, stripe_standin):
    stripe_standin.slow_next(1, seconds=0.3)
    first = stripe_provider.connect_account_create(email="s@example.com", country=None, idempotency_key="k-1")
    again = stripe_provider.connect_account_create(email="s@example.com", country=None, idempotency_key="k-1")

    assert again.reference == first.reference
    assert len(stripe_standin.accounts) == 1
    assert [r.replayed for r in stripe_standin.requests_to("POST", ACCOUNTS)] == [False, True]
    assert "country" not in stripe_standin.requests_to("POST", ACCOUNTS)[0].params


def test_stripe_account_create_survives_a_5xx_through_the_sdk_retry(stripe_provider, stripe_standin):
    stripe_standin.fail_next(1, status=500)

    result = stripe_provider.connect_account_create(email="s@example.com", country=None, idempotency_key="k-2")

    requests = stripe_standin.requests_to("POST", ACCOUNTS)
    assert [r.status for r in requests] == [500, 200]
    assert {r.headers["idempotency-key"] for r in requests} == {"k-2"}
    assert list(stripe_standin.accounts) == [result.reference]


def test_stripe_account_retrieve_and_an_unknown_account(stripe_provider, stripe_standin):
    made = stripe_provider.connect_account_create(email="s@example.com", country=None, idempotency_key="k-3")
    stripe_standin.accounts[made.reference].update(details_submitted=True)

    again = stripe_provider.connect_account_retrieve(account_ref=made.reference)

    assert (again.reference, again.details_submitted, again.payouts_enabled) == (made.reference, True, False)
    with pytest.raises(ProviderError) as error:
        stripe_provider.connect_account_retrieve(account_ref="acct_nope")
    assert error.value.retryable is False


def test_stripe_account_link_is_an_onboarding_link(stripe_provider, stripe_standin):
    account = stripe_provider.connect_account_create(email="s@example.com", country=None, idempotency_key="k-4")
    before = datetime.now(tz=UTC)

    link = stripe_provider.connect_account_link(
        account_ref=account.reference, refresh_url="http://front/refresh", return_url="http://front/return"
    )

    assert link.url.startswith(f"https://connect.stripe.com/setup/e/{account.reference}/")
    assert before - timedelta(seconds=1) < link.expires_at - timedelta(seconds=300) <= datetime.now(tz=UTC)
    (request,) = stripe_standin.requests_to("POST", "/v1/account_links")
    assert request.params == {
        "account": account.reference,
        "type": "account_onboarding",
        "refresh_url": "http://front/refresh",
        "return_url": "http://front/return",
    }


def test_stripe_account_link_for_an_unknown_account_is_refused(stripe_provider):
    with pytest.raises(ProviderError) as error:
        stripe_provider.connect_account_link(account_ref="acct_nope", refresh_url="http://a/", return_url="http://b/")
    assert error.value.retryable is False


# --- Stripe: transfers and reversals ------------------------------------------------------------


def test_stripe_records_the_charge_of_a_succeeded_payment(stripe_provider, stripe_standin):
    charge = stripe_charge(stripe_provider)

    (intent,) = stripe_standin.intents.values()
    assert charge == intent["latest_charge"]
    assert charge.startswith("ch_")


def test_stripe_transfer_create_sends_the_share_from_the_charge(stripe_provider, stripe_standin):
    charge = stripe_charge(stripe_provider)
    account = enabled_stripe_account(stripe_provider, stripe_standin)

    result = stripe_provider.transfer_create(
        amount=Decimal("40.50"),
        currency="USD",
        destination=account,
        transfer_group="BZ1",
        source_transaction=charge,
        idempotency_key="transfer-BZ1-mugs",
        metadata={"store_order": "BZ1-1"},
    )

    assert result.reference.startswith("tr_")
    assert (result.amount, result.currency, result.reversed_amount) == (Decimal("40.50"), "USD", Decimal("0.00"))
    (request,) = stripe_standin.requests_to("POST", TRANSFERS)
    assert request.params == {
        "amount": "4050",
        "currency": "usd",
        "destination": account,
        "transfer_group": "BZ1",
        "metadata": {"store_order": "BZ1-1"},
        "source_transaction": charge,
    }
    assert request.headers["idempotency-key"] == "transfer-BZ1-mugs"
    assert stripe_standin.transfers[result.reference]["destination"] == account


def test_stripe_transfer_retried_with_its_key_is_made_once(stripe_provider, stripe_standin):
    charge = stripe_charge(stripe_provider)
    account = enabled_stripe_account(stripe_provider, stripe_standin)
    stripe_standin.fail_next(1, status=503)
    args = {"amount": Decimal("10.00"), "currency": "USD", "destination": account, "transfer_group": "BZ1"}
    args |= {"source_transaction": charge, "idempotency_key": "transfer-BZ1-1", "metadata": {}}

    first = stripe_provider.transfer_create(**args)
    again = stripe_provider.transfer_create(**args)

    assert again.reference == first.reference
    assert len(stripe_standin.transfers) == 1
    assert [r.status for r in stripe_standin.requests_to("POST", TRANSFERS)] == [503, 200, 200]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"destination": "acct_nope"}, "No such destination", id="unknown-account"),
        pytest.param({"onboarded": False}, "capabilities", id="transfers-not-active"),
        pytest.param({"source_transaction": "ch_nope"}, "No such charge", id="unknown-charge"),
        pytest.param({"amount": Decimal("50.01")}, "Insufficient funds", id="more-than-the-charge"),
        pytest.param({"currency": "EUR"}, "currency", id="other-currency"),
    ],
)
def test_stripe_transfer_refusals_are_not_retryable(stripe_provider, stripe_standin, change, message):
    charge = stripe_charge(stripe_provider)
    account = enabled_stripe_account(stripe_provider, stripe_standin)
    if change.pop("onboarded", True) is False:
        stripe_standin.accounts[account]["capabilities"]["transfers"] = "inactive"
    args = {"amount": Decimal("50.00"), "currency": "USD", "destination": account, "transfer_group": "BZ1"}
    args |= {"source_transaction": charge, "idempotency_key": "t-1", "metadata": {}}

    with pytest.raises(ProviderError, match=message) as error:
        stripe_provider.transfer_create(**args | change)

    assert error.value.retryable is False
    assert stripe_standin.transfers == {}


def test_stripe_transfers_from_one_charge_never_exceed_it(stripe_provider, stripe_standin):
    charge = stripe_charge(stripe_provider)
    account = enabled_stripe_account(stripe_provider, stripe_standin)
    args = {"currency": "USD", "destination": account, "transfer_group": "BZ1", "source_transaction": charge}
    stripe_provider.transfer_create(amount=Decimal("30.00"), idempotency_key="t-a", metadata={}, **args)

    with pytest.raises(ProviderError):
        stripe_provider.transfer_create(amount=Decimal("20.01"), idempotency_key="t-b", metadata={}, **args)
    stripe_provider.transfer_create(amount=Decimal("20.00"), idempotency_key="t-c", metadata={}, **args)

    assert sorted(t["amount"] for t in stripe_standin.transfers.values()) == [2000, 3000]


def test_stripe_transfer_reverse_in_parts_never_beyond_the_transfer(stripe_provider, stripe_standin):
    charge = stripe_charge(stripe_provider)
    account = enabled_stripe_account(stripe_provider, stripe_standin)
    transfer = stripe_provider.transfer_create(
        amount=Decimal("40.00"),
        currency="USD",
        destination=account,
        transfer_group="BZ1",
        source_transaction=charge,
        idempotency_key="t-1",
        metadata={},
    )

    first = stripe_provider.transfer_reverse(
        transfer_ref=transfer.reference, amount=Decimal("15.00"), idempotency_key="rev-1"
    )
    replay = stripe_provider.transfer_reverse(
        transfer_ref=transfer.reference, amount=Decimal("15.00"), idempotency_key="rev-1"
    )
    with pytest.raises(ProviderError, match=r"greater than the amount remaining on the transfer \(2500\)") as error:
        stripe_provider.transfer_reverse(transfer_ref=transfer.reference, amount=Decimal("25.01"), idempotency_key="r2")
    rest = stripe_provider.transfer_reverse(
        transfer_ref=transfer.reference, amount=Decimal("25.00"), idempotency_key="rev-3"
    )

    assert error.value.retryable is False
    assert first.reference.startswith("trr_")
    assert replay.reference == first.reference
    assert (first.amount, rest.amount) == (Decimal("15.00"), Decimal("25.00"))
    stored = stripe_standin.transfers[transfer.reference]
    assert (stored["amount_reversed"], stored["reversed"], stored["reversals"]["total_count"]) == (4000, True, 2)
    requests = stripe_standin.requests_to("POST", f"{TRANSFERS}/{transfer.reference}/reversals")
    assert [r.params for r in requests] == [
        {"amount": "1500"},
        {"amount": "1500"},
        {"amount": "2501"},
        {"amount": "2500"},
    ]
    assert [r.status for r in requests] == [200, 200, 400, 200]


def test_stripe_transfer_reverse_of_an_unknown_transfer(stripe_provider):
    with pytest.raises(ProviderError) as error:
        stripe_provider.transfer_reverse(transfer_ref="tr_nope", amount=Decimal("1.00"), idempotency_key="r")
    assert error.value.retryable is False


# --- simulated ------------------------------------------------------------------------------------


@pytest.fixture
def simulated():
    return SimulatedProvider()


def simulated_charge(provider: SimulatedProvider, amount: str = "50.00", key: str = "order-BZ1-1") -> str:
    payment = provider.start(amount=Decimal(amount), currency="USD", reference="BZ1", idempotency_key=key)
    result = provider.confirm(payment_ref=payment.reference, payment_method="pm_card_visa", idempotency_key="c")
    return result.charge_reference


def enabled_simulated_account(provider: SimulatedProvider, key: str = "store-s-connect") -> str:
    account = provider.connect_account_create(email="s@example.com", country=None, idempotency_key=key)
    SimulatedConnectAccount.objects.filter(reference=account.reference).update(
        details_submitted=True, payouts_enabled=True
    )
    return account.reference


def test_simulated_payments_have_a_charge_once_succeeded(simulated):
    payment = simulated.start(amount=Decimal("5.00"), currency="USD", reference="BZ1", idempotency_key="k")
    assert payment.charge_reference == ""

    done = simulated.confirm(payment_ref=payment.reference, payment_method="pm_card_visa", idempotency_key="c")

    assert done.charge_reference == charge_reference(payment.reference)
    assert done.charge_reference.startswith("sim_ch_")
    assert simulated.retrieve(payment_ref=payment.reference).charge_reference == done.charge_reference


def test_simulated_declined_payment_has_no_charge(simulated):
    payment = simulated.start(amount=Decimal("5.00"), currency="USD", reference="BZ1", idempotency_key="k")
    result = simulated.confirm(
        payment_ref=payment.reference, payment_method="pm_card_chargeDeclined", idempotency_key="c"
    )
    assert (result.status, result.charge_reference) == (PaymentStatus.FAILED, "")


def test_simulated_account_create_is_idempotent(simulated):
    first = simulated.connect_account_create(email="s@example.com", country="FR", idempotency_key="store-a")
    again = simulated.connect_account_create(email="s@example.com", country="FR", idempotency_key="store-a")
    other = simulated.connect_account_create(email="t@example.com", country=None, idempotency_key="store-b")

    assert again.reference == first.reference != other.reference
    assert (first.details_submitted, first.payouts_enabled) == (False, False)
    assert SimulatedConnectAccount.objects.count() == 2
    assert simulated.connect_account_retrieve(account_ref=first.reference) == first
    with pytest.raises(ProviderError):
        simulated.connect_account_retrieve(account_ref="sim_acct_nope")


def test_simulated_link_is_an_app_page_with_an_unguessable_token(simulated):
    account = simulated.connect_account_create(email="s@example.com", country=None, idempotency_key="store-a")

    link = simulated.connect_account_link(
        account_ref=account.reference, refresh_url="http://f/r", return_url="http://f/b"
    )
    second = simulated.connect_account_link(
        account_ref=account.reference, refresh_url="http://f/r", return_url="http://f/b"
    )

    prefix = "/payouts/simulated/onboard/"
    assert link.url.startswith(prefix)
    assert link.url.endswith("/")
    token = link.url.removeprefix(prefix).strip("/")
    assert len(token) >= 40
    assert second.url != link.url
    assert timezone.now() + timedelta(minutes=4) < link.expires_at <= timezone.now() + timedelta(minutes=5)
    stored = SimulatedAccountLink.objects.get(expires_at=link.expires_at)
    assert token not in stored.token_hash  # only its hash is kept
    with pytest.raises(ProviderError):
        simulated.connect_account_link(account_ref="sim_acct_nope", refresh_url="http://f/r", return_url="http://f/b")


def test_simulated_transfer_and_its_replay(simulated):
    charge = simulated_charge(simulated)
    account = enabled_simulated_account(simulated)
    args = {"amount": Decimal("45.00"), "currency": "USD", "destination": account, "transfer_group": "BZ1"}
    args |= {"source_transaction": charge, "idempotency_key": "transfer-1", "metadata": {"store_order": "1"}}

    first = simulated.transfer_create(**args)
    again = simulated.transfer_create(**args)

    assert first == again
    assert first.reference.startswith("sim_tr_")
    assert (first.amount, first.currency, first.reversed_amount) == (Decimal("45.00"), "USD", Decimal("0"))
    stored = SimulatedTransfer.objects.get()
    assert (stored.source_transaction, stored.transfer_group, stored.metadata) == (charge, "BZ1", {"store_order": "1"})
    with pytest.raises(ProviderError, match="Idempotency key reused"):
        simulated.transfer_create(**args | {"amount": Decimal("1.00")})


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"destination": "sim_acct_nope"}, id="unknown-account"),
        pytest.param({"onboarded": False}, id="payouts-not-enabled"),
        pytest.param({"source_transaction": "sim_ch_nope"}, id="unknown-charge"),
        pytest.param({"amount": Decimal("50.01")}, id="more-than-the-charge"),
        pytest.param({"currency": "EUR"}, id="other-currency"),
        pytest.param({"amount": Decimal("0.00")}, id="zero"),
    ],
)
def test_simulated_transfer_refusals(simulated, change):
    charge = simulated_charge(simulated)
    account = enabled_simulated_account(simulated)
    if change.pop("onboarded", True) is False:
        SimulatedConnectAccount.objects.update(payouts_enabled=False)
    args = {"amount": Decimal("50.00"), "currency": "USD", "destination": account, "transfer_group": "BZ1"}
    args |= {"source_transaction": charge, "idempotency_key": "t", "metadata": {}}

    with pytest.raises(ProviderError) as error:
        simulated.transfer_create(**args | change)

    assert error.value.retryable is False
    assert not SimulatedTransfer.objects.exists()


def test_simulated_transfer_without_a_source_charge(simulated):
    account = enabled_simulated_account(simulated)
    result = simulated.transfer_create(
        amount=Decimal("5.00"),
        currency="USD",
        destination=account,
        transfer_group="BZ1",
        source_transaction=None,
        idempotency_key="t",
        metadata={},
    )
    assert SimulatedTransfer.objects.get().source_transaction == ""
    assert result.amount == Decimal("5.00")


def test_simulated_reversals_never_exceed_the_transfer(simulated):
    charge = simulated_charge(simulated)
    account = enabled_simulated_account(simulated)
    transfer = simulated.transfer_create(
        amount=Decimal("40.00"),
        currency="USD",
        destination=account,
        transfer_group="BZ1",
        source_transaction=charge,
        idempotency_key="t",
        metadata={},
    )

    first = simulated.transfer_reverse(transfer_ref=transfer.reference, amount=Decimal("15.00"), idempotency_key="r1")
    replay = simulated.transfer_reverse(transfer_ref=transfer.reference, amount=Decimal("15.00"), idempotency_key="r1")
    with pytest.raises(ProviderError) as error:
        simulated.transfer_reverse(transfer_ref=transfer.reference, amount=Decimal("25.01"), idempotency_key="r2")
    rest = simulated.transfer_reverse(transfer_ref=transfer.reference, amount=Decimal("25.00"), idempotency_key="r3")

    assert error.value.retryable is False
    assert replay == first
    assert first.reference.startswith("sim_trr_")
    assert rest.amount == Decimal("25.00")
    assert SimulatedTransfer.objects.get().amount_reversed == Decimal("40.00")
    assert SimulatedTransferReversal.objects.count() == 2
    with pytest.raises(ProviderError):
        simulated.transfer_reverse(transfer_ref="sim_tr_nope", amount=Decimal("1.00"), idempotency_key="r4")
