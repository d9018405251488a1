"""Sellers' payout accounts with the simulated provider (the default in tests): the endpoint that
hands out onboarding links, the app's own onboarding page, the status selector, the admin."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.accounts.tests.factories import StoreFactory, UserFactory
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.orders.tests.test_concurrency import run_together
from apps.payments.connect import connect_account_apply, connect_account_status
from apps.payments.models import ConnectAccount, Payment, SimulatedAccountLink, SimulatedConnectAccount
from apps.payments.providers.base import ProviderError
from apps.payments.providers.simulated import SimulatedProvider, charge_reference

pytestmark = pytest.mark.django_db

ENDPOINT = "/api/v1/users/me/store/payout-account/"
PAGE = "/payouts/simulated/onboard/"


@pytest.fixture(autouse=True)
def _simulated(settings):
    settings.PAYMENT_PROVIDER = "simulated"
    settings.FRONTEND_URL = "https://shop.example"


def link_for(client) -> dict:
    response = client.post(ENDPOINT)
    assert response.status_code == 201, response.json()
    return response.json()


def page_path(body: dict) -> str:
    return body["url"].removeprefix("http://testserver")


# --- the endpoint -------------------------------------------------------------------------------


def test_the_first_call_opens_the_account_and_answers_a_link(seller, seller_client):
    body = link_for(seller_client)

    assert set(body) == {"url", "expires_at"}
    assert body["url"].startswith(f"http://testserver{PAGE}")
    assert body["url"].endswith("/")
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert timezone.now() + timedelta(minutes=4) < expires_at <= timezone.now() + timedelta(minutes=5)
    account = ConnectAccount.objects.get()
    assert (account.store, account.provider, account.status) == (seller.store, "simulated", "onboarding")
    remote = SimulatedConnectAccount.objects.get()
    assert (remote.reference, remote.email, remote.key) == (
        account.reference,
        seller.email,
        f"store-{seller.store.slug}-connect-account",
    )
    assert SimulatedAccountLink.objects.get().return_url == "https://shop.example/seller/payouts/return"
    assert connect_account_status(store=seller.store) == ("onboarding", False)


def test_later_calls_reuse_the_account_with_a_new_link(seller_client):
    first = link_for(seller_client)

    second = link_for(seller_client)

    assert second["url"] != first["url"]
    assert ConnectAccount.objects.count() == 1
    assert SimulatedConnectAccount.objects.count() == 1
    assert SimulatedAccountLink.objects.count() == 2


def test_each_store_gets_its_own_account(client_for, seller_client):
    other = StoreFactory()
    link_for(seller_client)

    link_for(client_for(other.owner))

    assert ConnectAccount.objects.count() == 2
    assert len(set(ConnectAccount.objects.values_list("reference", flat=True))) == 2


def test_a_buyer_is_refused_as_on_other_seller_endpoints(buyer_client):
    response = buyer_client.post(ENDPOINT)

    assert response.status_code == 403
    assert response.json()["code"] == "not_a_seller"
    assert not ConnectAccount.objects.exists()
    assert not SimulatedConnectAccount.objects.exists()


def test_a_seller_without_a_store_is_answered_as_my_store_answers(client_for):
    client = client_for(UserFactory(is_seller=True))

    response = client.post(ENDPOINT)

    assert response.status_code == client.get("/api/v1/users/me/store/").status_code == 404
    assert response.json()["code"] == "no_store"
    assert not SimulatedConnectAccount.objects.exists()


def test_anonymous_is_401_and_get_is_405(client_for, seller_client):
    assert client_for(None).post(ENDPOINT).status_code == 401
    assert seller_client.get(ENDPOINT).status_code == 405
    assert not ConnectAccount.objects.exists()


def test_a_provider_failure_is_503_and_records_nothing(monkeypatch, seller_client):
    def refuse(self, **kwargs):
        raise ProviderError("down")

    monkeypatch.setattr(SimulatedProvider, "connect_account_create", refuse)

    response = seller_client.post(ENDPOINT)

    assert response.status_code == 503
    assert response.json()["code"] == "payout_provider_unavailable"
    assert not ConnectAccount.objects.exists()


def test_the_endpoint_is_in_the_schema(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"][ENDPOINT]["post"]
    assert set(operation["responses"]) >= {"201", "403", "404", "503"}
    ref = operation["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    output = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(output["properties"]) == {"url", "expires_at"}
    assert "get" not in schema["paths"][ENDPOINT]


# --- the simulated onboarding page ------------------------------------------------------------------


def test_opening_the_link_enables_the_account(client, seller, seller_client):
    body = link_for(seller_client)

    response = client.get(page_path(body))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    page = response.content.decode()
    assert "payouts to account" in page
    assert 'href="https://shop.example/seller/payouts/return"' in page
    account = ConnectAccount.objects.get()
    assert (account.details_submitted, account.payouts_enabled, account.status) == (True, True, "enabled")
    assert SimulatedConnectAccount.objects.get().payouts_enabled is True
    assert connect_account_status(store=seller.store) == ("enabled", True)


def test_opening_the_link_again_changes_nothing_more(client, seller_client):
    body = link_for(seller_client)
    client.get(page_path(body))
    account = ConnectAccount.objects.get()

    response = client.get(page_path(body))

    assert response.status_code == 200
    again = ConnectAccount.objects.get()
    assert (again.pk, again.reference, again.status) == (account.pk, account.reference, "enabled")
    assert SimulatedConnectAccount.objects.count() == 1


def test_a_link_opens_its_own_store_account_only(client, client_for, seller_client):
    other = StoreFactory()
    mine = link_for(seller_client)
    link_for(client_for(other.owner))

    client.get(page_path(mine))

    assert connect_account_status(store=other) == ("onboarding", False)
    assert ConnectAccount.objects.filter(payouts_enabled=True).count() == 1


def test_an_expired_link_is_a_404_page_and_changes_nothing(client, seller_client):
    body = link_for(seller_client)
    SimulatedAccountLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get(page_path(body))

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "unknown or has expired" in response.content.decode()
    assert ConnectAccount.objects.get().status == "onboarding"
    assert SimulatedConnectAccount.objects.get().payouts_enabled is False


@pytest.mark.parametrize("token", ["nope", "x" * 43])
def test_an_unknown_token_is_a_404_page(client, seller_client, token):
    link_for(seller_client)

    response = client.get(f"{PAGE}{token}/")

    assert response.status_code == 404
    assert "unknown or has expired" in response.content.decode()
    assert ConnectAccount.objects.get().status == "onboarding"


def test_the_page_only_answers_get(client, seller_client):
    body = link_for(seller_client)

    assert client.post(page_path(body)).status_code == 405
    assert ConnectAccount.objects.get().status == "onboarding"


# --- status and applying the provider's word ----------------------------------------------------------


def test_status_is_none_without_an_account(seller):
    assert connect_account_status(store=seller.store) == ("none", False)


@pytest.mark.parametrize(
    ("details_submitted", "payouts_enabled", "status"),
    [(False, False, "onboarding"), (True, False, "restricted"), (True, True, "enabled"), (False, True, "enabled")],
)
def test_status_follows_the_flags(seller, details_submitted, payouts_enabled, status):
    account = ConnectAccount.objects.create(store=seller.store, provider="stripe", reference="acct_1")

    connect_account_apply(
        provider_name="stripe",
        reference="acct_1",
        details_submitted=details_submitted,
        payouts_enabled=payouts_enabled,
    )

    account.refresh_from_db()
    assert account.status == status
    assert connect_account_status(store=seller.store) == (status, payouts_enabled)


def test_an_older_state_does_not_undo_a_newer_one(seller):
    ConnectAccount.objects.create(store=seller.store, provider="stripe", reference="acct_1")
    newer, older = datetime(2026, 11, 30, 12, 0, 5, tzinfo=UTC), datetime(2026, 11, 30, 12, 0, 1, tzinfo=UTC)
    connect_account_apply(
        provider_name="stripe", reference="acct_1", details_submitted=True, payouts_enabled=True, as_of=newer
    )

    connect_account_apply(
        provider_name="stripe", reference="acct_1", details_submitted=False, payouts_enabled=False, as_of=older
    )

    account = ConnectAccount.objects.get()
    assert (account.status, account.state_as_of) == ("enabled", newer)


def test_an_unknown_account_or_another_providers_changes_nothing(seller):
    ConnectAccount.objects.create(store=seller.store, provider="stripe", reference="acct_1")

    assert (
        connect_account_apply(provider_name="stripe", reference="acct_2", details_submitted=True, payouts_enabled=True)
        is None
    )
    assert (
        connect_account_apply(
            provider_name="simulated", reference="acct_1", details_submitted=True, payouts_enabled=True
        )
        is None
    )
    assert ConnectAccount.objects.get().status == "onboarding"


def test_paying_records_the_simulated_charge(buyer, buyer_client, mug):
    fill_cart(buyer, (mug, 1))
    number = buyer_client.post("/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json").json()["number"]

    response = buyer_client.post(f"/api/v1/orders/{number}/pay/", {"payment_method": "pm_card_visa"}, format="json")

    assert response.status_code == 200, response.json()
    payment = Payment.objects.get(order__number=number)
    assert payment.charge_reference == charge_reference(payment.reference)
    assert payment.charge_reference.startswith("sim_ch_")


# --- admin ------------------------------------------------------------------------------------------


def test_the_admin_shows_accounts_read_only(client, staff, seller):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    account = ConnectAccount.objects.create(store=seller.store, provider="stripe", reference="acct_1")
    base = "/admin/payments/connectaccount/"

    listing = client.get(base)
    detail = client.get(f"{base}{account.pk}/change/")
    posted = client.post(f"{base}{account.pk}/change/", {"payouts_enabled": "on", "reference": "acct_x"})

    assert listing.status_code == 200
    assert "acct_1" in listing.content.decode()
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert client.get(f"{base}add/").status_code == 403
    assert posted.status_code == 403
    assert client.post(f"{base}{account.pk}/delete/", {"post": "yes"}).status_code == 403
    account.refresh_from_db()
    assert (account.reference, account.payouts_enabled) == ("acct_1", False)


# --- PostgreSQL: racing first calls ------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_first_calls_open_one_account(client_for):
    store = StoreFactory()
    clients = [client_for(store.owner) for _ in range(4)]

    responses = run_together([lambda c=c: c.post(ENDPOINT) for c in clients])

    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.json()["url"] for r in responses}) == 4
    assert ConnectAccount.objects.count() == 1
    assert SimulatedConnectAccount.objects.count() == 1
    assert ConnectAccount.objects.get().reference == SimulatedConnectAccount.objects.get().reference
