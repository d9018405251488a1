"""Checkout's background work: the reservation expiry (every minute, from beat)."""

from __future__ import annotations

from celery import shared_task

from apps.checkout import services
from apps.core.tasks import DATABASE_ERRORS, RETRY


@shared_task(name="orders.expire", autoretry_for=DATABASE_ERRORS, **RETRY)
def orders_expire() -> list[str]:
    """Cancel orders unpaid for ORDER_RESERVATION_MINUTES (stock returns, their payment attempts
    are cancelled with the provider); returns their numbers. Idempotent: each order is re-checked
    under its lock."""
    return services.checkout_expire()
