"""Transactional mail: one template set per mail (subject, text, HTML), sent after commit."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def email_render(*, template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Render ``emails/<template>.subject.txt``, ``.txt`` and ``.html`` into (subject, text, html)."""
    context = {"frontend_url": settings.FRONTEND_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    return subject, text, html


def email_send(*, to: list[str], template: str, context: dict[str, Any]) -> None:
    """Send the mail once the surrounding transaction commits (at once outside a transaction).

    A mail server failure is logged, never raised: the request that asked for the mail has done
    its work, and (for a password reset) must answer the same whether or not a mail went out."""
    subject, text, html = email_render(template=template, context=context)

    def send() -> None:
        message = EmailMultiAlternatives(subject=subject, body=text, to=to, from_email=settings.DEFAULT_FROM_EMAIL)
        message.attach_alternative(html, "text/html")
        try:
            message.send()
        except (smtplib.SMTPException, OSError):
            logger.exception("%s mail could not be sent", template)

    transaction.on_commit(send)
