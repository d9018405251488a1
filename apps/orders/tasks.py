"""Order background work: the mails of a paid order, out of the request that paid it."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from apps.core.tasks import DATABASE_ERRORS, RETRY, SENT_MARK_SECONDS
from apps.orders import notifications


@shared_task(name="orders.paid_mails", bind=True, autoretry_for=DATABASE_ERRORS, **RETRY)
def order_paid_mails(self, *, order_id: int) -> int:
    """Render and queue the mails of a paid order; returns how many. Once per message, as
    core.email_deliver: a second run of the same task (redelivered after its worker died) queues
    nothing."""
    queued_mark = f"order-paid-mails:{self.request.id}"
    if self.request.id and cache.get(queued_mark):
        return 0
    sent = notifications.order_paid_mails_send(order_id=order_id)
    if self.request.id:
        cache.set(queued_mark, True, timeout=SENT_MARK_SECONDS)
    return sent
