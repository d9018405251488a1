"""Background work: the one way to queue a task, the retry policy, and the shared tasks (mail,
the Idempotency-Key purge).

Tasks live in each domain's ``tasks.py`` as thin wrappers around its services. They take ids and
plain values (JSON), never model instances, so a worker reads the committed rows itself. Each is
safe to run twice: a message is acknowledged only when its task has finished, so one whose worker
died runs again. Transient errors (a mail server, a payment provider or the database away for a
moment) are retried with exponential backoff and jitter (RETRY), each task naming the exceptions
it retries.
"""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import InterfaceError, OperationalError, transaction

from apps.core.idempotency import idempotency_keys_purge as _idempotency_keys_purge

logger = logging.getLogger(__name__)

# Countdowns of about 5, 10, 20, 40, 80, 160 s (each a random share of that: jitter), at most 10
# minutes; then the task fails and its failure is logged. Keep the broker's visibility timeout
# (CELERY_BROKER_TRANSPORT_OPTIONS) above retry_backoff_max.
RETRY: dict[str, Any] = {"retry_backoff": 5, "retry_backoff_max": 600, "retry_jitter": True, "max_retries": 6}
# The database went away or the connection broke: worth another try. Not IntegrityError and such.
DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
SENT_MARK_SECONDS = 24 * 60 * 60


def enqueue(task: Task, **kwargs: Any) -> None:
    """Queue ``task(**kwargs)`` once the current transaction commits (at once outside one), so a
    worker never reads rows that are not committed yet, and nothing is queued when they roll back.

    Without a broker (CELERY_TASK_ALWAYS_EAGER) the task runs inline at that moment. A failure to
    queue (the broker unreachable) or of an inline task is logged, not raised: the work that asked
    for the task has committed, and periodic reconciliation catches up where it matters."""

    def send() -> None:
        task.delay(**kwargs)

    send.__qualname__ = f"enqueue({task.name})"  # what a failure's log line names
    transaction.on_commit(send, robust=True)


class EmailTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """Retries are spent: log, and let the request that asked for the mail stand."""
        logger.error("%s mail could not be sent: %s", kwargs.get("template", "a"), exc)


@shared_task(
    name="core.email_deliver", base=EmailTask, bind=True, autoretry_for=(smtplib.SMTPException, OSError), **RETRY
)
def email_deliver(self, *, to: list[str], subject: str, text: str, html: str, template: str) -> None:
    """Send a mail rendered already (apps.core.emails.email_send). Once per message: a second run of
    the same task (a redelivery after its worker died) sends nothing."""
    sent_mark = f"email-sent:{self.request.id}"
    if self.request.id and cache.get(sent_mark):
        return
    message = EmailMultiAlternatives(subject=subject, body=text, to=to, from_email=settings.DEFAULT_FROM_EMAIL)
    message.attach_alternative(html, "text/html")
    message.send()
    if self.request.id:
        cache.set(sent_mark, True, timeout=SENT_MARK_SECONDS)


@shared_task(name="core.idempotency_keys_purge", autoretry_for=DATABASE_ERRORS, **RETRY)
def idempotency_keys_purge() -> int:
    """Delete expired Idempotency-Keys (hourly, from beat); returns how many."""
    return _idempotency_keys_purge()
