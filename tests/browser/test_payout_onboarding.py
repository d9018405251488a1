"""The simulated provider's payout onboarding in a browser: a seller asks the API for the link
(POST /api/v1/users/me/store/payout-account/), opens it, and the page that stands in for Stripe's
hosted onboarding enables the store's payout account, as the API then says."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from django.conf import settings
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen

from apps.accounts.tests.factories import DEFAULT_PASSWORD, StoreFactory
from apps.payments.models import ConnectAccount

pytestmark = pytest.mark.browser

TIMEOUT = 15  # seconds, for each API call to the live server


@pytest.fixture
def signed_in(live_server) -> Iterator:
    """``signed_in(email)``: an API client of the live server with that user's access token; closed
    after the test, which ends the server's thread for its connection."""
    opened: list[requests.Session] = []

    def sign_in(email: str) -> requests.Session:
        session = requests.Session()
        opened.append(session)
        session.trust_env = False  # straight to the live server, whatever proxy the environment names
        answer = session.post(
            f"{live_server.url}/api/v1/auth/token/",
            json={"email": email, "password": DEFAULT_PASSWORD},
            timeout=TIMEOUT,
        )
        assert answer.status_code == 200, answer.text
        session.headers["Authorization"] = f"Bearer {answer.json()['access']}"
        return session

    yield sign_in
    for session in opened:
        session.close()


def payout_account(api: requests.Session, live_server) -> dict:
    answer = api.get(f"{live_server.url}/api/v1/users/me/store/balance/", timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return answer.json()["account"]


def test_a_seller_opens_the_onboarding_link_and_payouts_are_enabled(browser, wait, live_server, signed_in):
    store = StoreFactory(owner__email="seller@example.com")
    api = signed_in("seller@example.com")
    answer = api.post(f"{live_server.url}/api/v1/users/me/store/payout-account/", timeout=TIMEOUT)
    assert answer.status_code == 201, answer.text
    link = answer.json()["url"]
    assert link.startswith(f"{live_server.url}/payouts/simulated/onboard/")
    assert payout_account(api, live_server) == {"status": "onboarding", "payouts_enabled": False}

    browser.get(link)

    wait.until(seen.title_is("Payouts enabled · Bazaar"))
    account = ConnectAccount.objects.get(store=store)
    page = browser.find_element(By.TAG_NAME, "body").text
    assert f"Onboarding is complete: payouts to account {account.reference} are enabled." in page
    back = browser.find_element(By.LINK_TEXT, "Back to your store").get_attribute("href")
    assert back == f"{settings.FRONTEND_URL}/seller/payouts/return"
    assert (account.details_submitted, account.payouts_enabled) == (True, True)
    assert payout_account(api, live_server) == {"status": "enabled", "payouts_enabled": True}


def test_an_unknown_onboarding_link_says_so_and_enables_nothing(browser, wait, live_server, signed_in):
    store = StoreFactory(owner__email="seller@example.com")
    api = signed_in("seller@example.com")
    link = api.post(f"{live_server.url}/api/v1/users/me/store/payout-account/", timeout=TIMEOUT).json()["url"]

    browser.get(link.rstrip("/") + "x/")  # not the token the provider made

    wait.until(seen.title_is("Link expired · Bazaar"))
    assert "This onboarding link is unknown or has expired." in browser.find_element(By.TAG_NAME, "body").text
    account = ConnectAccount.objects.get(store=store)
    assert (account.details_submitted, account.payouts_enabled) == (False, False)
    assert payout_account(api, live_server) == {"status": "onboarding", "payouts_enabled": False}
