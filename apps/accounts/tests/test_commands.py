"""Management commands: createsuperuser (Django's, on our User)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import User

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
