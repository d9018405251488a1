"""The admin login's brute-force protection and idle sessions (apps/accounts/admin_login.py, the
"Staff login" settings), driven through the real login form with CSRF checks on, as a browser."""

import io
import json
import logging
import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth.signals import user_login_failed
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.utils import timezone
from rest_framework.settings import api_settings

from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from apps.core.observability import RequestIdLogFilter
from apps.core.tests.test_env import GOOD_PROD, run_django

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
API_LOGIN = "/api/v1/auth/token/"
WRONG = "wrong-password-1"
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class Clock:
    def __init__(self) -> None:
        self.now = timezone.now()

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    """The time axes stamps attempts with and sessions expire by; moved with ``clock.advance``."""
    clock = Clock()
    monkeypatch.setattr("django.utils.timezone.now", lambda: clock.now)
    monkeypatch.setattr("axes.handlers.proxy.now", lambda: clock.now)
    return clock


@pytest.fixture
def staff_member(db):
    return UserFactory(is_staff=True, email="staff@bazaar.test")


def browser(**meta: str) -> Client:
    """A browser at the admin: CSRF checks on; ``meta`` goes with every request (REMOTE_ADDR, ...)."""
    return Client(enforce_csrf_checks=True, **meta)


def sign_in(client: Client, email: str, password: str, **meta: str):
    """GET the login form, then post it with the form's CSRF token, as a browser does."""
    form = client.get(LOGIN, **meta)
    assert form.status_code == 200
    token = CSRF_FIELD.search(form.content).group(1).decode()
    return client.post(
        LOGIN, {"username": email, "password": password, "csrfmiddlewaretoken": token, "next": "/admin/"}, **meta
    )


def page_text(response) -> str:
    return " ".join(response.content.decode().split())


def assert_signed_in(client: Client, response) -> None:
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def assert_refused(response) -> None:
    assert response.status_code == 429
    assert "Sign-in is locked: too many failed attempts" in page_text(response)
    assert int(response["Retry-After"]) > 0


def assert_failed(response) -> None:
    assert response.status_code == 200
    assert "Please enter the correct" in page_text(response)


def lock(email: str, **meta: str) -> None:
    """Five wrong passwords for ``email``: the fifth locks the account."""
    client = browser(**meta)
    for _ in range(4):
        assert_failed(sign_in(client, email, WRONG))
    assert_refused(sign_in(client, email, WRONG))


# --- Per account -----------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_the_right_one_is_refused_until_the_cool_off_ends(staff_member, clock):
    client = browser()
    for _ in range(4):
        assert_failed(sign_in(client, staff_member.email, WRONG))
    fifth = sign_in(client, staff_member.email, WRONG)
    clock.advance(minutes=14)

    refused = sign_in(client, staff_member.email, DEFAULT_PASSWORD)

    assert fifth.status_code == 429
    assert_refused(refused)
    assert refused["Retry-After"] == "60"
    assert "too many failed attempts for staff@bazaar.test. Try again in 1 minute," in page_text(refused)
    assert client.get("/admin/").status_code == 302  # not signed in
    # The refusal did not count: the lock still ends 15 minutes after the fifth failure.
    clock.advance(minutes=1, seconds=1)
    assert_signed_in(client, sign_in(client, staff_member.email, DEFAULT_PASSWORD))


def test_the_locked_account_is_refused_from_any_address(staff_member, clock):
    lock(staff_member.email, REMOTE_ADDR="10.0.0.1")

    response = sign_in(browser(REMOTE_ADDR="10.0.0.2"), staff_member.email, DEFAULT_PASSWORD)

    assert_refused(response)
    assert AccessAttempt.objects.get().failures_since_start == 5


def test_the_same_email_in_another_case_is_the_same_account(staff_member, clock):
    lock("STAFF@Bazaar.test")

    assert_refused(sign_in(browser(), staff_member.email, DEFAULT_PASSWORD))


def test_four_failures_lock_nothing(staff_member, clock):
    client = browser()
    for _ in range(4):
        assert_failed(sign_in(client, staff_member.email, WRONG))

    assert_signed_in(client, sign_in(client, staff_member.email, DEFAULT_PASSWORD))


def test_a_wrong_second_factor_counts_like_a_wrong_password(staff_member, clock):
    # What the two-factor login sends for a wrong token: Django's signal, with the login request.
    for _ in range(5):
        request = RequestFactory().post(LOGIN, REMOTE_ADDR="10.0.0.3")
        user_login_failed.send(sender="otp", credentials={"username": staff_member.email}, request=request)

    assert_refused(sign_in(browser(REMOTE_ADDR="10.0.0.4"), staff_member.email, DEFAULT_PASSWORD))


# --- Per address -----------------------------------------------------------------------------


def test_twenty_failures_over_different_accounts_from_one_address_lock_that_address(staff_member, clock):
    client = browser(REMOTE_ADDR="10.0.0.7")
    for number in range(19):
        assert_failed(sign_in(client, f"guess{number}@example.com", WRONG))
    twentieth = sign_in(client, "guess19@example.com", WRONG)

    from_there = sign_in(client, staff_member.email, DEFAULT_PASSWORD)
    from_elsewhere = browser(REMOTE_ADDR="10.0.0.8")

    assert_refused(twentieth)
    assert_refused(from_there)
    assert "too many failed attempts from your address." in page_text(from_there)
    assert_signed_in(from_elsewhere, sign_in(from_elsewhere, staff_member.email, DEFAULT_PASSWORD))


def test_a_spoofed_forwarded_for_does_not_escape_the_address_limit_without_trusted_proxies(
    staff_member, clock, settings
):
    assert api_settings.NUM_PROXIES == 0
    settings.ADMIN_LOGIN_FAILURES_PER_ADDRESS = 3
    for number in range(3):
        spoofing = browser(REMOTE_ADDR="10.0.0.7", HTTP_X_FORWARDED_FOR=f"198.51.100.{number}")
        sign_in(spoofing, f"guess{number}@example.com", WRONG)

    response = sign_in(
        browser(REMOTE_ADDR="10.0.0.7", HTTP_X_FORWARDED_FOR="198.51.100.99"), staff_member.email, DEFAULT_PASSWORD
    )

    assert_refused(response)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.0.0.7"}


def test_behind_one_trusted_proxy_the_address_is_the_one_the_proxy_saw(staff_member, clock, settings, monkeypatch):
    monkeypatch.setattr(api_settings, "NUM_PROXIES", 1)
    settings.ADMIN_LOGIN_FAILURES_PER_ADDRESS = 3
    proxy = "10.9.9.9"
    for number in range(3):
        client = browser(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"198.51.100.{number}, 203.0.113.7")
        sign_in(client, f"guess{number}@example.com", WRONG)

    spoofed_first_hop = browser(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="8.8.8.8, 203.0.113.7")
    another_client = browser(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.8")

    assert_refused(sign_in(spoofed_first_hop, staff_member.email, DEFAULT_PASSWORD))
    assert_signed_in(another_client, sign_in(another_client, staff_member.email, DEFAULT_PASSWORD))
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


# --- Logs, unlocking, the API ----------------------------------------------------------------


def test_every_refusal_is_logged_with_the_request_id(staff_member, clock, caplog):
    caplog.handler.addFilter(RequestIdLogFilter())  # as the production log handler has it
    lock(staff_member.email, REMOTE_ADDR="10.0.0.5")
    clock.advance(minutes=5)
    caplog.clear()

    with caplog.at_level(logging.WARNING, logger="apps.accounts.admin_login"):
        sign_in(browser(REMOTE_ADDR="10.0.0.5"), staff_member.email, DEFAULT_PASSWORD, HTTP_X_REQUEST_ID="trace-lock")

    [record] = [record for record in caplog.records if record.name == "apps.accounts.admin_login"]
    assert record.levelname == "WARNING"
    assert record.request_id == "trace-lock"
    locked_until = (clock.now + timedelta(minutes=10)).isoformat(timespec="seconds")
    assert record.getMessage() == (
        f"admin login refused: locked until {locked_until} "
        "(account staff@bazaar.test: 5 failures, address 10.0.0.5: 5 failures)"
    )


def test_axes_reset_username_unlocks_the_account(staff_member, clock):
    lock(staff_member.email)
    out = io.StringIO()

    call_command("axes_reset_username", staff_member.email, stdout=out)

    assert out.getvalue() == "1 attempts removed.\n"
    client = browser()
    assert_signed_in(client, sign_in(client, staff_member.email, DEFAULT_PASSWORD))
    assert AccessFailureLog.objects.filter(username=staff_member.email).count() == 5  # the history stays


def test_staff_see_the_attempts_and_the_failure_log_in_the_admin(staff_member, clock, client):
    lock(staff_member.email)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    attempts = client.get("/admin/axes/accessattempt/")
    failures = client.get("/admin/axes/accessfailurelog/")

    assert attempts.status_code == failures.status_code == 200
    assert b"staff@bazaar.test" in attempts.content
    assert b"staff@bazaar.test" in failures.content


def test_the_apis_failed_logins_are_not_counted_for_the_admin(staff_member, clock, api_client):
    for _ in range(5):
        assert api_client.post(API_LOGIN, {"email": staff_member.email, "password": WRONG}).status_code == 401

    assert not AccessAttempt.objects.exists()
    client = browser()
    assert_signed_in(client, sign_in(client, staff_member.email, DEFAULT_PASSWORD))


def test_a_locked_admin_login_leaves_the_api_login_to_its_throttles(staff_member, clock, api_client):
    lock(staff_member.email)

    response = api_client.post(API_LOGIN, {"email": staff_member.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


# --- Sessions --------------------------------------------------------------------------------


def test_an_admin_session_ends_after_the_idle_time_and_activity_keeps_it(staff_member, clock, settings):
    idle = timedelta(minutes=settings.ADMIN_SESSION_IDLE_MINUTES)
    assert idle.total_seconds() == settings.SESSION_COOKIE_AGE
    client = browser()
    signed_in = sign_in(client, staff_member.email, DEFAULT_PASSWORD)
    assert_signed_in(client, signed_in)
    assert signed_in.cookies["sessionid"]["httponly"] is True

    clock.advance(seconds=idle.total_seconds() - 60)
    assert client.get("/admin/").status_code == 200
    clock.advance(seconds=idle.total_seconds() - 60)  # longer than the idle time since signing in
    assert client.get("/admin/").status_code == 200
    clock.advance(seconds=idle.total_seconds() + 1)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


SESSION_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({name: "
    "getattr(s, name) for name in ('SESSION_COOKIE_AGE', 'SESSION_SAVE_EVERY_REQUEST', 'SESSION_COOKIE_SECURE', "
    "'SESSION_COOKIE_HTTPONLY', 'CSRF_COOKIE_SECURE', 'CSRF_COOKIE_HTTPONLY')}))"
)


def test_production_sessions_idle_out_after_30_minutes_with_secure_http_only_cookies(tmp_path):
    result = run_django(SESSION_SETTINGS, database=tmp_path / "db.sqlite3", **GOOD_PROD)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "SESSION_COOKIE_AGE": 30 * 60,
        "SESSION_SAVE_EVERY_REQUEST": True,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
    }


def test_dev_sessions_last_a_working_day_of_idleness(tmp_path):
    result = run_django(SESSION_SETTINGS, database=tmp_path / "db.sqlite3", ENV="dev")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["SESSION_COOKIE_AGE"] == 8 * 60 * 60
