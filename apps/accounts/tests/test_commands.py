"""Management commands: createsuperuser (Django's, on our User), staff_totp_enrol."""

import re
from base64 import b32decode
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_createsuperuser_noinput_reads_email_and_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Root@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-password-1")

    call_command("createsuperuser", "--noinput", stdout=StringIO())

    admin = User.objects.get()
    assert admin.email == "root@example.com"
    assert (admin.is_staff, admin.is_superuser, admin.is_active, admin.is_seller) == (True, True, True, False)
    assert admin.check_password("a-long-admin-password-1")


def test_createsuperuser_refuses_an_email_taken_in_another_case(monkeypatch):
    User.objects.create_user("root@example.com", "whatever-password-1")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "ROOT@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-password-1")

    with pytest.raises(CommandError, match="already taken"):
        call_command("createsuperuser", "--noinput", stdout=StringIO(), stderr=StringIO())

    assert User.objects.count() == 1
    assert not User.objects.get().is_superuser


# --- staff_totp_enrol: the admin's second factor -----------------------------------------------------


class Terminal(StringIO):
    """Output that says it is a terminal, as a staff member's shell is."""

    def isatty(self) -> bool:
        return True


def enrol(*args: str, stdout: StringIO | None = None) -> str:
    out = stdout if stdout is not None else StringIO()
    call_command("staff_totp_enrol", *args, stdout=out)
    return out.getvalue()


def printed_codes(output: str) -> list[str]:
    return re.findall(r"^  ([a-z2-7]{8})$", output, flags=re.MULTILINE)


def secret_of(uri: str) -> bytes:
    return b32decode(parse_qs(urlsplit(uri).query)["secret"][0])


@pytest.fixture
def ops():
    return UserFactory(is_staff=True, email="ops@bazaar.test")


def test_enrol_prints_the_provisioning_uri_and_ten_backup_codes_once(ops):
    output = enrol("OPS@bazaar.test")  # any letter case

    device = TOTPDevice.objects.get(user=ops)
    assert (device.name, device.confirmed) == ("admin", True)
    uri = re.search(r"^otpauth://\S+$", output, flags=re.MULTILINE).group(0)
    assert uri == device.config_url
    assert uri.startswith("otpauth://totp/Bazaar%20%28test%29%3Aops%40bazaar.test?")
    # The URI provisions the app: a code computed from its secret is what the device accepts.
    assert device.verify_token(f"{totp(secret_of(uri), step=device.step, digits=device.digits):06d}")
    codes = printed_codes(output)
    assert len(set(codes)) == 10
    backup = StaticDevice.objects.get(user=ops)
    assert sorted(backup.token_set.values_list("token", flat=True)) == sorted(codes)
    assert "\x1b[" not in output  # no QR drawing into a file or a pipe


def test_enrol_draws_the_qr_code_on_a_terminal(ops):
    output = enrol(ops.email, stdout=Terminal())

    assert "\x1b[48;5;232m" in output  # qrcode's terminal drawing (black background, white modules)
    assert re.search(r"^otpauth://", output, flags=re.MULTILINE)
    assert len(printed_codes(output)) == 10


def test_enrolling_again_changes_nothing_and_shows_no_secret(ops):
    first = enrol(ops.email)
    device = TOTPDevice.objects.get(user=ops)
    codes = printed_codes(first)

    again = enrol(ops.email)

    assert "already enrolled: nothing changed" in again
    assert "--reset" in again
    assert list(TOTPDevice.objects.filter(user=ops).values_list("pk", "key")) == [(device.pk, device.key)]
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(codes)
    assert "otpauth://" not in again
    assert printed_codes(again) == []


def test_reset_replaces_the_key_and_the_backup_codes(ops):
    old_codes = printed_codes(enrol(ops.email))
    old = TOTPDevice.objects.get(user=ops)

    output = enrol(ops.email, "--reset")

    new = TOTPDevice.objects.get(user=ops)
    assert new.key != old.key
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    new_codes = printed_codes(output)
    assert len(new_codes) == 10
    assert not set(new_codes) & set(old_codes)
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(new_codes)
    assert StaticDevice.objects.filter(user=ops).count() == 1
    assert new.config_url in output


@pytest.mark.parametrize(
    ("email", "message"),
    [("nobody@bazaar.test", "No user has the email 'nobody@bazaar.test'."), ("buyer@bazaar.test", "is not staff")],
    ids=["unknown", "not-staff"],
)
def test_enrol_refuses_an_unknown_user_or_one_who_is_not_staff(email, message):
    UserFactory(email="buyer@bazaar.test")

    with pytest.raises(CommandError, match=re.escape(message)):
        enrol(email)

    assert not TOTPDevice.objects.exists()
    assert not StaticDevice.objects.exists()
