"""Transactional mail: one template set per mail (subject, text, HTML), sent after commit."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from apps.core.tasks import email_deliver, enqueue


def email_render(*, template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Render ``emails/<template>.subject.txt``, ``.txt`` and ``.html`` into (subject, text, html)."""
    context = {"frontend_url": settings.FRONTEND_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    return subject, text, html


def email_send(*, to: list[str], template: str, context: dict[str, Any]) -> None:
    """Render the mail now and queue its delivery (the ``core.email_deliver`` task) for when the
    surrounding transaction commits; inline without a broker. Nothing is sent on rollback.

    A mail server failure is retried, then logged, never raised: the request that asked for the
    mail has done its work, and (for a password reset) must answer the same whether or not a mail
    went out."""
    subject, text, html = email_render(template=template, context=context)
    enqueue(email_deliver, to=list(to), subject=subject, text=text, html=html, template=template)
