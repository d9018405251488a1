"""Password reset by mail and password change."""

import re
import smtplib
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

RESET = "/api/v1/auth/password-reset/"
CONFIRM = "/api/v1/auth/password-reset/confirm/"
CHANGE = "/api/v1/users/me/password/"
LOGIN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
NEW_PASSWORD = "quartz-lantern-meadow-7"
PROMISE = {"detail": "If an account with that email exists, a reset link is on its way."}
BAD_TOKEN = {"token": ["The reset link is invalid or has expired."]}
LINK = re.compile(r"(?P<base>https?://[^/\s]+)/reset-password\?uid=(?P<uid>[\w-]+)&(?:amp;)?token=(?P<token>[\w-]+)")


def request_reset(client, capture, email):
    with capture(execute=True):
        return client.post(RESET, {"email": email})


def mailed_link(message) -> dict[str, str]:
    return LINK.search(message.body).groupdict()


def can_log_in(client, email, password) -> bool:
    return client.post(LOGIN, {"email": email, "password": password}).status_code == 200


@pytest.fixture
def reset_link(api_client, buyer, django_capture_on_commit_callbacks):
    request_reset(api_client, django_capture_on_commit_callbacks, buyer.email)
    return mailed_link(mail.outbox[0])


def test_reset_answers_the_same_for_known_and_unknown_emails_and_mails_only_the_known(
    api_client, buyer, django_capture_on_commit_callbacks
):
    known = request_reset(api_client, django_capture_on_commit_callbacks, buyer.email)
    unknown = request_reset(api_client, django_capture_on_commit_callbacks, "nobody@example.com")

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json() == PROMISE
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [buyer.email]


def test_reset_mail_is_sent_only_after_commit(api_client, buyer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api_client.post(RESET, {"email": buyer.email})

    assert len(callbacks) == 1
    assert mail.outbox == []


def test_reset_matches_the_email_in_any_letter_case(api_client, django_capture_on_commit_callbacks):
    user = UserFactory(email="ann@example.com")

    request_reset(api_client, django_capture_on_commit_callbacks, "ANN@Example.com")

    assert [message.to for message in mail.outbox] == [[user.email]]


def test_reset_mails_nobody_for_an_inactive_account(api_client, django_capture_on_commit_callbacks):
    inactive = UserFactory(is_active=False)

    response = request_reset(api_client, django_capture_on_commit_callbacks, inactive.email)

    assert response.status_code == 202
    assert response.json() == PROMISE
    assert mail.outbox == []


def test_reset_mail_links_to_the_frontend_with_uid_and_token_in_text_and_html(
    api_client, buyer, settings, django_capture_on_commit_callbacks
):
    settings.FRONTEND_URL = "https://shop.example.org"

    request_reset(api_client, django_capture_on_commit_callbacks, buyer.email)

    message = mail.outbox[0]
    uid = urlsafe_base64_encode(force_bytes(buyer.pk))
    link = mailed_link(message)
    assert link["base"] == "https://shop.example.org"
    assert link["uid"] == uid
    assert default_token_generator.check_token(buyer, link["token"])
    assert message.subject == "Reset your Bazaar password"
    assert f"https://shop.example.org/reset-password?uid={uid}&token={link['token']}" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f"https://shop.example.org/reset-password?uid={uid}&amp;token={link['token']}" in html
    assert message.from_email == settings.DEFAULT_FROM_EMAIL


def test_reset_confirm_sets_the_new_password_and_kills_old_refresh_tokens(
    api_client, buyer, django_capture_on_commit_callbacks
):
    old_refresh = api_client.post(LOGIN, {"email": buyer.email, "password": DEFAULT_PASSWORD}).json()["refresh"]
    request_reset(api_client, django_capture_on_commit_callbacks, buyer.email)
    reset_link = mailed_link(mail.outbox[0])

    response = api_client.post(
        CONFIRM, {"uid": reset_link["uid"], "token": reset_link["token"], "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 204
    assert can_log_in(api_client, buyer.email, NEW_PASSWORD)
    assert not can_log_in(api_client, buyer.email, DEFAULT_PASSWORD)
    assert api_client.post(REFRESH, {"refresh": old_refresh}).status_code == 401


def test_a_login_after_the_request_invalidates_the_link(api_client, buyer, reset_link):
    assert can_log_in(api_client, buyer.email, DEFAULT_PASSWORD)

    response = api_client.post(
        CONFIRM, {"uid": reset_link["uid"], "token": reset_link["token"], "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert response.json() == BAD_TOKEN


def test_reset_token_works_only_once(api_client, buyer, reset_link):
    api_client.post(CONFIRM, {**reset_link, "new_password": NEW_PASSWORD})
    del reset_link["base"]

    response = api_client.post(CONFIRM, {**reset_link, "new_password": "another-fine-password-9"})

    assert response.status_code == 400
    assert response.json() == BAD_TOKEN
    assert can_log_in(api_client, buyer.email, NEW_PASSWORD)


def test_reset_token_expires_after_the_timeout(api_client, buyer, reset_link, settings, monkeypatch):
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 5)
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)

    response = api_client.post(
        CONFIRM, {"uid": reset_link["uid"], "token": reset_link["token"], "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert response.json() == BAD_TOKEN
    assert can_log_in(api_client, buyer.email, DEFAULT_PASSWORD)


def test_reset_token_is_still_good_just_before_the_timeout(api_client, buyer, reset_link, settings, monkeypatch):
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 60)
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)

    response = api_client.post(
        CONFIRM, {"uid": reset_link["uid"], "token": reset_link["token"], "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 204


@pytest.mark.parametrize(
    "uid",
    ["!!!", "", "bm90LWEtbnVtYmVy", urlsafe_base64_encode(b"\xff\xfe"), urlsafe_base64_encode(b"9" * 40), "A" * 64],
    ids=["not-base64", "empty", "not-a-number", "not-utf8", "huge-number", "long"],
)
def test_reset_confirm_with_a_malformed_uid_is_400(api_client, buyer, reset_link, uid):
    response = api_client.post(CONFIRM, {"uid": uid, "token": reset_link["token"], "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert can_log_in(api_client, buyer.email, DEFAULT_PASSWORD)


def test_reset_confirm_with_another_users_uid_is_400(api_client, buyer, reset_link):
    other = UserFactory()

    response = api_client.post(
        CONFIRM,
        {
            "uid": urlsafe_base64_encode(force_bytes(other.pk)),
            "token": reset_link["token"],
            "new_password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 400
    assert response.json() == BAD_TOKEN
    assert can_log_in(api_client, other.email, DEFAULT_PASSWORD)


def test_reset_confirm_with_a_tampered_token_is_400(api_client, buyer, reset_link):
    response = api_client.post(
        CONFIRM, {"uid": reset_link["uid"], "token": reset_link["token"] + "x", "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert response.json() == BAD_TOKEN


def test_reset_confirm_refuses_a_weak_new_password_and_keeps_the_old_one(api_client, buyer, reset_link):
    response = api_client.post(
        CONFIRM, {"uid": reset_link["uid"], "token": reset_link["token"], "new_password": "password123"}
    )

    assert response.status_code == 400
    assert response.json() == {"new_password": ["This password is too common."]}
    assert can_log_in(api_client, buyer.email, DEFAULT_PASSWORD)


def test_reset_confirm_for_a_deactivated_account_is_400(api_client, buyer, reset_link):
    buyer.is_active = False
    buyer.save(update_fields=["is_active"])

    response = api_client.post(
        CONFIRM, {"uid": reset_link["uid"], "token": reset_link["token"], "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 400
    buyer.refresh_from_db()
    assert buyer.check_password(DEFAULT_PASSWORD)


def test_change_password_with_the_wrong_old_password_is_400(buyer, api_client, buyer_client):
    response = buyer_client.post(CHANGE, {"old_password": "not-my-password-1", "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert response.json() == {"old_password": ["The current password is wrong."]}
    assert can_log_in(api_client, buyer.email, DEFAULT_PASSWORD)


def test_change_password_refuses_a_weak_new_password(buyer, api_client, buyer_client):
    response = buyer_client.post(CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": "12345"})

    assert response.status_code == 400
    assert set(response.json()) == {"new_password"}
    assert "This password is too short. It must contain at least 10 characters." in response.json()["new_password"]
    assert can_log_in(api_client, buyer.email, DEFAULT_PASSWORD)


def test_change_password_sets_the_new_one_and_ends_other_sessions(buyer, api_client, buyer_client):
    other_session = api_client.post(LOGIN, {"email": buyer.email, "password": DEFAULT_PASSWORD}).json()["refresh"]

    response = buyer_client.post(CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD})

    assert response.status_code == 204
    assert can_log_in(api_client, buyer.email, NEW_PASSWORD)
    assert not can_log_in(api_client, buyer.email, DEFAULT_PASSWORD)
    assert api_client.post(REFRESH, {"refresh": other_session}).status_code == 401


def test_change_password_needs_authentication(api_client):
    response = api_client.post(CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD})

    assert response.status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_outage_does_not_tell_known_emails_apart(monkeypatch, caplog):
    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    user = UserFactory()
    client = APIClient(raise_request_exception=False)

    known = client.post(RESET, {"email": user.email})
    unknown = client.post(RESET, {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json() == PROMISE
    assert "password_reset mail could not be sent" in caplog.text
    assert user.email not in caplog.text
