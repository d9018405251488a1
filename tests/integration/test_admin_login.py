"""The admin login's lock holds across app servers: failures are counted in the shared database.

Run by CI once, on PostgreSQL: `pytest -m integration tests/integration`."""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
import requests
from django_otp.oath import totp

pytestmark = pytest.mark.integration

EMAIL = "admin-lock@it.test"
PASSWORD = "integration-admin-2026"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TYPED_KEY = re.compile(r"\(or type the key: ([A-Z2-7=]+)\)")


def admin_sign_in(server: str, email: str, password: str, otp_token: str = "") -> requests.Response:
    """GET the login form, then post it with its CSRF token, as a browser does. The CSRF cookie is
    Secure in production, so it is sent back by hand over this plain-HTTP connection."""
    form = requests.get(f"{server}/admin/login/", timeout=10)
    assert form.status_code == 200, form.text
    token = CSRF_FIELD.search(form.text).group(1)
    return requests.post(
        f"{server}/admin/login/",
        data={
            "username": email,
            "password": password,
            "otp_token": otp_token,
            "csrfmiddlewaretoken": token,
            "next": "/admin/",
        },
        headers={"Cookie": f"csrftoken={form.cookies['csrftoken']}"},
        allow_redirects=False,
        timeout=10,
    )


def test_five_wrong_passwords_on_one_server_lock_the_account_on_the_other(stack):
    stack.manage(
        "shell",
        "-c",
        f"from apps.accounts.models import User; User.objects.create_user({EMAIL!r}, {PASSWORD!r}, is_staff=True)",
    )
    # The stack runs with ENV=prod, where the admin also asks for a second factor (ADMIN_REQUIRE_2FA).
    key = b32decode(TYPED_KEY.search(stack.manage("staff_totp_enrol", EMAIL)).group(1))

    failures = [admin_sign_in(stack.servers[0], EMAIL, "wrong-password-1").status_code for _ in range(5)]
    on_the_other_server = admin_sign_in(stack.servers[1], EMAIL, PASSWORD)

    assert failures == [200, 200, 200, 200, 429]
    assert on_the_other_server.status_code == 429
    assert "Sign-in is locked" in on_the_other_server.text
    # Unlocked by staff on the command line, the account signs in on either server.
    assert stack.manage("axes_reset_username", EMAIL).strip() == "1 attempts removed."
    signed_in = admin_sign_in(stack.servers[1], EMAIL, PASSWORD, otp_token=f"{totp(key):06d}")
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/admin/"
