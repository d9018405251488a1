"""The payout run, sent by beat (config.settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from apps.core.tasks import DATABASE_ERRORS, RETRY
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
