"""Background work: enqueue waits for the commit, mail goes out in a retried task, the beat
schedule names real tasks. Without a broker (the test settings) every task runs inline."""

import smtplib
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction

from apps.core import tasks
from apps.core.emails import email_send
from apps.core.tasks import RETRY, email_deliver, enqueue
from config.celery import app as celery_app

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
CONTEXT = {"user": {"first_name": "Ann"}, "uid": "MQ", "token": "abc-123"}
MAIL = {"to": ["ann@example.com"], "subject": "Hi", "text": "Hello", "html": "<p>Hello</p>", "template": "test"}


# --- without a broker: inline ---------------------------------------------------------------


def test_without_a_broker_tasks_run_inline():
    assert settings.CELERY_TASK_ALWAYS_EAGER is True
    assert celery_app.conf.task_always_eager is True
    assert celery_app.conf.broker_url.startswith("memory://")


def test_without_a_broker_the_mail_goes_out_at_the_commit_and_nothing_stays_queued(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        email_send(to=["ann@example.com"], template="password_reset", context=CONTEXT)
        assert mail.outbox == []

    assert len(callbacks) == 1
    assert [(message.to, message.subject) for message in mail.outbox] == [
        (["ann@example.com"], "Reset your Bazaar password")
    ]


@pytest.mark.parametrize(
    ("variables", "eager", "broker"),
    [
        ({}, "True", "memory://localhost/"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/3"}, "False", "redis://127.0.0.1:6379/3"),
        (
            {"REDIS_URL": "redis://127.0.0.1:6379/3", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/4"},
            "False",
            "redis://127.0.0.1:6379/4",
        ),
    ],
)
def test_the_broker_comes_from_redis_url_or_celery_broker_url(variables, eager, broker):
    code = "from django.conf import settings as s; print(s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL)"
    env = {"PATH": "/usr/bin:/bin", "ENV": "test", "DJANGO_SETTINGS_MODULE": "config.settings", **variables}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.split() == [eager, broker]


# --- with a broker: after commit, never on rollback ------------------------------------------


def test_enqueue_waits_for_the_commit(queued, django_capture_on_commit_callbacks):
    calls = queued(email_deliver)

    with django_capture_on_commit_callbacks(execute=True):
        enqueue(email_deliver, **MAIL)
        assert calls == []

    assert calls == [("core.email_deliver", MAIL)]
    assert mail.outbox == []


def test_email_send_queues_the_rendered_mail_not_the_objects(queued, django_capture_on_commit_callbacks):
    calls = queued(email_deliver)

    with django_capture_on_commit_callbacks(execute=True):
        email_send(to=["ann@example.com"], template="password_reset", context=CONTEXT)

    [(name, kwargs)] = calls
    assert name == "core.email_deliver"
    assert sorted(kwargs) == ["html", "subject", "template", "text", "to"]
    assert kwargs["subject"] == "Reset your Bazaar password"
    assert "Hello Ann," in kwargs["text"]
    assert all(isinstance(value, str) for value in kwargs.values() if value != kwargs["to"])


def queue_then_fail() -> None:
    with transaction.atomic():
        enqueue(email_deliver, **MAIL)
        raise RuntimeError("the write failed")


@pytest.mark.django_db(transaction=True)
def test_nothing_is_queued_when_the_transaction_rolls_back(queued):
    calls = queued(email_deliver)

    with pytest.raises(RuntimeError):
        queue_then_fail()

    assert calls == []


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_enqueue_queues_at_once(queued):
    calls = queued(email_deliver)

    enqueue(email_deliver, **MAIL)

    assert calls == [("core.email_deliver", MAIL)]


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_cannot_be_reached_is_logged_not_raised(monkeypatch, caplog):
    def unreachable(**kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(email_deliver, "delay", unreachable)

    with transaction.atomic():
        enqueue(email_deliver, **MAIL)

    assert "Error calling enqueue(core.email_deliver) in on_commit()" in caplog.text


# --- the mail task --------------------------------------------------------------------------


def test_the_mail_task_sends_a_message_once_per_task_id():
    email_deliver.apply(kwargs=MAIL, task_id="mail-1")
    email_deliver.apply(kwargs=MAIL, task_id="mail-1")  # a redelivery after its worker died
    email_deliver.apply(kwargs=MAIL, task_id="mail-2")

    assert len(mail.outbox) == 2
    message = mail.outbox[0]
    assert (message.to, message.subject, message.body, message.from_email) == (
        ["ann@example.com"],
        "Hi",
        "Hello",
        settings.DEFAULT_FROM_EMAIL,
    )
    assert message.alternatives[0] == ("<p>Hello</p>", "text/html")


def test_a_mail_server_failure_is_retried_with_backoff(monkeypatch, task_retries):
    countdowns = task_retries(email_deliver)
    failures = [smtplib.SMTPServerDisconnected("gone"), ConnectionRefusedError(111)]
    original = mail.backends.locmem.EmailBackend.send_messages

    def flaky(self, messages):
        if failures:
            raise failures.pop(0)
        return original(self, messages)

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", flaky)

    result = email_deliver.apply(kwargs=MAIL)

    assert result.state == "SUCCESS"
    assert len(mail.outbox) == 1
    assert len(countdowns) == 2
    # Full jitter: a random share of 5 s, then of 10 s.
    assert 0 <= countdowns[0] <= 5
    assert 0 <= countdowns[1] <= 10


def test_a_mail_that_keeps_failing_gives_up_after_max_retries_and_is_logged(monkeypatch, caplog):
    attempts = []

    def refuse(self, messages):
        attempts.append(1)
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)

    result = email_deliver.apply(kwargs=MAIL)

    assert result.state == "FAILURE"
    assert len(attempts) == RETRY["max_retries"] + 1
    assert "test mail could not be sent" in caplog.text


def test_a_mail_error_that_is_not_transient_is_not_retried(monkeypatch):
    attempts = []

    def broken(self, messages):
        attempts.append(1)
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", broken)

    result = email_deliver.apply(kwargs=MAIL)

    assert result.state == "FAILURE"
    assert attempts == [1]


# --- declarations and the beat schedule -------------------------------------------------------


def test_the_retry_policy_is_exponential_with_jitter():
    assert RETRY == {"retry_backoff": 5, "retry_backoff_max": 600, "retry_jitter": True, "max_retries": 6}
    # The broker must not re-deliver a message a worker holds for its longest countdown.
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > RETRY["retry_backoff_max"]
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT


def test_the_worker_settings_hold_a_message_until_its_task_is_done():
    conf = celery_app.conf
    assert (conf.task_acks_late, conf.task_reject_on_worker_lost, conf.worker_prefetch_multiplier) == (True, True, 1)
    assert (conf.task_serializer, list(conf.accept_content)) == ("json", ["json"])
    assert conf.task_soft_time_limit < conf.task_time_limit


def test_every_task_declares_its_transient_errors_and_the_backoff():
    celery_app.loader.import_default_modules()
    ours = {name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")}

    assert set(ours) == {
        "catalog.image_make_thumbnail",
        "core.email_deliver",
        "core.idempotency_keys_purge",
        "orders.expire",
        "orders.paid_mails",
        "payments.reconcile",
        "payments.webhook_process",
        "payouts.release",
        "payouts.reverse_order",
    }
    for task in ours.values():
        assert task.autoretry_for, task.name
        assert (task.retry_backoff, task.retry_jitter, task.max_retries) == (5, True, 6), task.name
    assert set(ours["core.email_deliver"].autoretry_for) == {smtplib.SMTPException, OSError}


def test_the_beat_schedule_names_registered_tasks():
    celery_app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE

    assert {name: (entry["task"], entry["schedule"].total_seconds()) for name, entry in schedule.items()} == {
        "expire-orders": ("orders.expire", 60),
        "reconcile-payments": ("payments.reconcile", 300),
        "purge-idempotency-keys": ("core.idempotency_keys_purge", 3600),
        "release-payouts": ("payouts.release", 3600),
    }
    for entry in schedule.values():
        assert entry["task"] in celery_app.tasks
        assert entry["options"]["expires"] < entry["schedule"].total_seconds()


def test_the_purge_task_deletes_expired_keys(buyer):
    from datetime import timedelta

    from django.utils import timezone

    from apps.core.models import IdempotencyKey

    old = IdempotencyKey.objects.create(user=buyer, key="old", request_hash="h", locked_until=timezone.now())
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    IdempotencyKey.objects.create(user=buyer, key="new", request_hash="h", locked_until=timezone.now())

    assert tasks.idempotency_keys_purge.apply().get() == 1
    assert tasks.idempotency_keys_purge.apply().get() == 0
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
