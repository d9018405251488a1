"""Payment background work: webhook events (queued as they arrive) and reconciliation with the
provider (every few minutes, from beat)."""

from __future__ import annotations

from celery import shared_task

from apps.core.tasks import DATABASE_ERRORS, RETRY
from apps.payments import services, webhooks
from apps.payments.providers.base import ProviderError

PAYMENT_ERRORS = (ProviderError, *DATABASE_ERRORS)


@shared_task(name="payments.webhook_process", autoretry_for=PAYMENT_ERRORS, **RETRY)
def webhook_process(*, event_id: str) -> str:
    """Apply a stored webhook event (queued by webhook_receive) to its payment and order. A no-op
    for an event processed already; returns the outcome."""
    record = webhooks.webhook_process(event_id=event_id)
    return record.outcome if record is not None else "unknown event"


@shared_task(name="payments.reconcile", autoretry_for=PAYMENT_ERRORS, **RETRY)
def payments_reconcile() -> dict[str, int]:
    """Ask the provider about every open payment (webhooks that never arrived), refund what is
    still due on cancelled orders, and queue again webhook events left unprocessed. Idempotent:
    every provider call carries the attempt's idempotency key."""
    return {
        "checked": services.payments_sync(),
        "refunded": services.payments_refund_due(),
        "webhooks_requeued": webhooks.webhooks_requeue_stale(),
    }
