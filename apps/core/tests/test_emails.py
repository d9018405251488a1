"""Transactional mail: rendered from templates, sent only when the transaction commits."""

import smtplib

import pytest
from django.core import mail
from django.db import transaction

from apps.core.emails import email_render, email_send

pytestmark = pytest.mark.django_db

CONTEXT = {"user": {"first_name": "Ann"}, "uid": "MQ", "token": "abc-123"}


def test_render_gives_subject_text_and_html_with_the_frontend_url(settings):
    settings.FRONTEND_URL = "https://shop.example.org"

    subject, text, html = email_render(template="password_reset", context=CONTEXT)

    assert subject == "Reset your Bazaar password"
    assert "Hello Ann," in text
    assert "https://shop.example.org/reset-password?uid=MQ&token=abc-123" in text
    assert "https://shop.example.org/reset-password?uid=MQ&amp;token=abc-123" in html
    assert html.lstrip().startswith("<!doctype html>")


def test_html_escapes_what_the_user_wrote():
    _, text, html = email_render(template="password_reset", context={**CONTEXT, "user": {"first_name": "<b>Ann</b>"}})

    assert "&lt;b&gt;Ann&lt;/b&gt;" in html
    assert "<b>Ann</b>" not in html
    assert "Hello <b>Ann</b>," in text


def test_send_waits_for_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        email_send(to=["ann@example.com"], template="password_reset", context=CONTEXT)
        assert mail.outbox == []

    assert len(callbacks) == 1
    assert [message.to for message in mail.outbox] == [["ann@example.com"]]
    assert mail.outbox[0].alternatives[0][1] == "text/html"


def mail_then_fail() -> None:
    with transaction.atomic():
        email_send(to=["ann@example.com"], template="password_reset", context=CONTEXT)
        raise RuntimeError("the write failed")


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing():
    with pytest.raises(RuntimeError):
        mail_then_fail()

    assert mail.outbox == []


@pytest.mark.parametrize("error", [smtplib.SMTPAuthenticationError(535, b"bad login"), ConnectionRefusedError(111)])
def test_a_mail_server_failure_is_logged_not_raised(monkeypatch, caplog, django_capture_on_commit_callbacks, error):
    def refuse(self, messages):
        raise error

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)

    with django_capture_on_commit_callbacks(execute=True):
        email_send(to=["ann@example.com"], template="password_reset", context=CONTEXT)

    assert mail.outbox == []
    assert "password_reset mail could not be sent" in caplog.text
