"""The payout run, sent by beat (config.settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from apps.core.tasks import DATABASE_ERRORS, RETRY, enqueue
from apps.payments.providers.base import ProviderError
from apps.payouts import services
from apps.payouts.models import TransferStatus


@shared_task(name="payouts.release", autoretry_for=(ProviderError, *DATABASE_ERRORS), **RETRY)
def payouts_release() -> dict[str, int]:
    """Reverse what is due, then transfer every releasable store order (services.payouts_release).
    Safe to run twice or in two workers at once: every transfer is claimed once and sent with its
    own idempotency key."""
    reversals = services.payouts_reverse_due()
    transfers = services.payouts_release()
    return {
        "reversals": len(reversals),
        **{status: sum(1 for t in transfers if t.status == status) for status in TransferStatus.values},
    }


@shared_task(name="payouts.reverse_order", autoretry_for=(ProviderError, *DATABASE_ERRORS), **RETRY)
def payouts_reverse_order(*, order_id: int) -> int:
    """Reverse at once what a refund of this order took from store orders already paid out
    (services.payouts_reverse_due); the next payout run catches whatever this misses."""
    return len(services.payouts_reverse_due(order_id=order_id))


def reverse_after_refund(*, order_id: int) -> None:
    """The payments hook (apps.payments.hooks.on_refund_posted): queue the reversal, if any is due."""
    enqueue(payouts_reverse_order, order_id=order_id)
