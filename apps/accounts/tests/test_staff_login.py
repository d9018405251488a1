"""The staff login's second factor (apps/accounts/admin_site.py), driven through the real admin login
form: a test client with CSRF checks on, the token taken from the page as a browser would.

With ADMIN_REQUIRE_2FA on, the password alone does not open the admin: a code of the staff member's
authenticator app (computed here from the device's key, as the app does) or a backup code (once)
does; a refused code counts as a failed login (``user_login_failed``, which django-axes counts).
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.signals import user_login_failed
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.admin_site import StaffAdminSite
from apps.accounts.models import Address, Store, User
from apps.accounts.services import StaffEnrolment, staff_two_factor_enrol
from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from apps.cart.models import Cart
from apps.catalog.models import Category, Product, Review
from apps.checkout.services import checkout_place
from apps.core.tests.test_env import GOOD_PROD, run_django
from apps.orders.models import Order
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.models import Payment, Refund, SimulatedPayment, WebhookEvent
from apps.shipping.models import ShippingRate

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
INDEX = reverse("admin:index")
ORDERS = reverse("admin:orders_order_changelist")


# --- given ---------------------------------------------------------------------------------------


@pytest.fixture
def two_factor(settings):
    settings.ADMIN_REQUIRE_2FA = True


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True, is_superuser=True, email="ops@bazaar.test")


@pytest.fixture
def enrolled(operator) -> StaffEnrolment:
    return staff_two_factor_enrol(user=operator)


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def failures():
    """What ``user_login_failed`` carried, for every send during the test."""
    sent: list[dict] = []

    def receiver(sender, credentials, request=None, **kwargs):
        sent.append({"sender": sender, "credentials": credentials, "path": request and request.path})

    user_login_failed.connect(receiver)
    yield sent
    user_login_failed.disconnect(receiver)


def csrf_token(page) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def log_in(browser: Client, *, email: str, password: str = DEFAULT_PASSWORD, token: str | None = None):
    """Open the admin's login page, fill it in and submit it, as a person at a browser does."""
    page = browser.get(LOGIN, {"next": INDEX})
    assert page.status_code == 200
    form = {"csrfmiddlewaretoken": csrf_token(page), "username": email, "password": password, "next": INDEX}
    if token is not None:
        form["otp_token"] = token
    return browser.post(LOGIN, form)


def app_code(device: TOTPDevice, *, steps: int = 0) -> str:
    """What the authenticator app shows now (``steps`` periods away), from the device's key."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=steps)
    return f"{code:0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    """Six digits that the device accepts at no moment of its tolerance window."""
    accepted = {app_code(device, steps=steps) for steps in range(-device.tolerance - 1, device.tolerance + 2)}
    return next(code for code in (f"{n:06d}" for n in range(1_000_000)) if code not in accepted)


def admitted(browser: Client) -> bool:
    """Whether the admin opens for this browser (otherwise it is sent to the login page)."""
    response = browser.get(INDEX)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def refused(response, message: str) -> None:
    """The login form again (200, not a redirect), saying ``message``, and no session."""
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].non_field_errors())
    assert 'name="otp_token"' in response.content.decode()
    assert "_auth_user_id" not in response.client.session


# --- the second factor ---------------------------------------------------------------------------


def test_the_password_alone_is_refused_with_the_form_again(two_factor, browser, operator, enrolled, failures):
    response = log_in(browser, email=operator.email)

    refused(response, "Please enter your OTP token.")
    assert not admitted(browser)
    assert failures == []  # no token was tried: nothing to count


def test_a_wrong_token_is_refused_and_counted_as_a_failed_login(two_factor, browser, operator, enrolled, failures):
    response = log_in(browser, email=operator.email, token=wrong_code(enrolled.device))

    refused(response, "Invalid token.")
    assert not admitted(browser)
    assert failures == [
        {"sender": "apps.accounts.admin_site", "credentials": {"username": "ops@bazaar.test"}, "path": LOGIN}
    ]


def test_the_right_token_logs_in(two_factor, browser, operator, enrolled, failures):
    response = log_in(browser, email=operator.email, token=app_code(enrolled.device))

    assert (response.status_code, response["Location"]) == (302, INDEX)
    assert int(browser.session["_auth_user_id"]) == operator.pk
    assert admitted(browser)
    assert failures == []


def test_an_app_code_once_used_is_refused_the_second_time(two_factor, operator, enrolled, failures):
    code = app_code(enrolled.device)
    assert log_in(Client(enforce_csrf_checks=True), email=operator.email, token=code).status_code == 302

    again = Client(enforce_csrf_checks=True)
    refused(log_in(again, email=operator.email, token=code), "Invalid token.")

    assert not admitted(again)
    assert [sent["credentials"] for sent in failures] == [{"username": operator.email}]


def test_a_backup_code_works_once(two_factor, operator, enrolled, failures):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    code = enrolled.backup_codes[0]

    # As copied from a printout: capitals, a space.
    used = log_in(first, email=operator.email, token=f"{code[:4].upper()} {code[4:].upper()}")
    reused = log_in(second, email=operator.email, token=code)

    assert used.status_code == 302
    assert admitted(first)
    refused(reused, "Invalid token.")
    assert not admitted(second)
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(enrolled.backup_codes[1:])
    assert [sent["credentials"] for sent in failures] == [{"username": operator.email}]


def test_a_wrong_password_is_refused_before_any_token_is_tried(two_factor, browser, operator, enrolled, failures):
    code = app_code(enrolled.device)

    response = log_in(browser, email=operator.email, password="not-the-password-1", token=code)

    assert response.status_code == 200
    assert "and password for a staff account" in " ".join(response.context["form"].non_field_errors())
    assert not admitted(browser)
    # Counted once, by Django's own login (not again for the token, which stays unused).
    assert [sent["sender"] for sent in failures] == ["django.contrib.auth"]
    assert log_in(Client(enforce_csrf_checks=True), email=operator.email, token=code).status_code == 302


def test_another_members_code_does_not_open_an_account(two_factor, browser, operator, enrolled, failures):
    colleague = UserFactory(is_staff=True, email="colleague@bazaar.test")
    theirs = staff_two_factor_enrol(user=colleague)

    response = log_in(browser, email=operator.email, token=app_code(theirs.device))

    refused(response, "Invalid token.")
    assert [sent["credentials"] for sent in failures] == [{"username": operator.email}]


def test_a_staff_member_without_a_device_is_refused_and_told_how_to_enrol(two_factor, browser, operator, failures):
    response = log_in(browser, email=operator.email, token="123456")

    refused(response, "manage.py staff_totp_enrol")
    assert not admitted(browser)
    assert [sent["credentials"] for sent in failures] == [{"username": operator.email}]


def test_a_session_no_device_verified_is_sent_to_the_login(two_factor, client, operator, enrolled):
    client.force_login(operator)  # a password login from before the switch, or from elsewhere

    response = client.get(ORDERS)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_a_reset_ends_the_sessions_its_old_devices_verified(two_factor, browser, operator, enrolled):
    assert log_in(browser, email=operator.email, token=app_code(enrolled.device)).status_code == 302
    assert admitted(browser)

    call_command("staff_totp_enrol", operator.email, "--reset", stdout=StringIO())

    assert not admitted(browser)


def test_a_verified_staff_member_reads_orders_payments_and_refunds(two_factor, browser, operator, enrolled, mug):
    buyer = UserFactory()
    fill_cart(buyer, (mug, 2))
    order = checkout_place(buyer=buyer, shipping_address=ADDRESS, payment_method="pm_card_visa")
    assert log_in(browser, email=operator.email, token=app_code(enrolled.device)).status_code == 302
    payment = Payment.objects.get()

    for url in (
        INDEX,
        ORDERS,
        reverse("admin:orders_order_change", args=[order.pk]),
        reverse("admin:payments_payment_changelist"),
        reverse("admin:payments_payment_change", args=[payment.pk]),
        reverse("admin:payments_refund_changelist"),
        reverse("admin:accounts_user_changelist"),
        reverse("admin:admin_logentry_changelist"),
    ):
        assert browser.get(url).status_code == 200, url
    assert order.number in browser.get(ORDERS).content.decode()


def test_the_staff_site_keeps_every_model_admin():
    """admin.site is the staff site from the start (Django's default_site), so every app's
    ``@admin.register`` is on it; the device pages come with django-otp."""
    assert isinstance(admin.site, StaffAdminSite)
    assert admin.site.name == "admin"
    assert {
        User, Address, Store, Category, Product, Review, ShippingRate, Cart, Order, Payment, Refund,
        SimulatedPayment, WebhookEvent, LogEntry, TOTPDevice, StaticDevice,
    } <= set(admin.site._registry)  # fmt: skip


def test_the_device_pages_show_no_secret(two_factor, browser, operator, enrolled):
    assert log_in(browser, email=operator.email, token=enrolled.backup_codes[0]).status_code == 302

    totp_page = browser.get(reverse("admin:otp_totp_totpdevice_change", args=[enrolled.device.pk]))
    static = StaticDevice.objects.get()
    static_page = browser.get(reverse("admin:otp_static_staticdevice_change", args=[static.pk]))

    assert (totp_page.status_code, static_page.status_code) == (200, 200)
    assert enrolled.device.key not in totp_page.content.decode()
    for code in enrolled.backup_codes[1:]:
        assert code not in static_page.content.decode()
    assert browser.get(reverse("admin:otp_totp_totpdevice_config", args=[enrolled.device.pk])).status_code == 403
    assert browser.get(reverse("admin:otp_totp_totpdevice_qrcode", args=[enrolled.device.pk])).status_code == 403


# --- off: Django's admin login, unchanged ------------------------------------------------------


def test_with_two_factor_off_the_password_alone_logs_in(settings, browser, operator):
    settings.ADMIN_REQUIRE_2FA = False

    page = browser.get(LOGIN)
    response = log_in(browser, email=operator.email)

    assert 'name="otp_token"' not in page.content.decode()
    assert (response.status_code, response["Location"]) == (302, INDEX)
    assert admitted(browser)


def test_with_two_factor_off_a_forced_login_opens_the_admin(settings, client, operator):
    settings.ADMIN_REQUIRE_2FA = False
    client.force_login(operator)

    assert client.get(ORDERS).status_code == 200


# --- where it is on: prod by default, either way when set -----------------------------------------

PRINT_SWITCH = (
    "import django; django.setup(); from django.conf import settings; from django.contrib import admin; "
    "print(settings.ADMIN_REQUIRE_2FA, admin.site.__class__.__name__, "
    "getattr(admin.site.login_form, '__name__', None))"
)


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (GOOD_PROD, "True StaffAdminSite StaffLoginForm"),
        ({"ENV": "dev"}, "False StaffAdminSite None"),
        ({**GOOD_PROD, "ADMIN_REQUIRE_2FA": "false"}, "False StaffAdminSite None"),
        ({"ENV": "dev", "ADMIN_REQUIRE_2FA": "true"}, "True StaffAdminSite StaffLoginForm"),
    ],
    ids=["prod-requires-it", "dev-does-not", "prod-switched-off", "dev-switched-on"],
)
def test_production_requires_the_second_factor_and_dev_does_not(tmp_path, variables, expected):
    result = run_django(PRINT_SWITCH, database=tmp_path / "db.sqlite3", **variables)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
