"""Order background work: the reservation expiry (every minute, from beat)."""

from __future__ import annotations

from celery import shared_task

from apps.core.tasks import DATABASE_ERRORS, RETRY
from apps.orders import services


@shared_task(name="orders.expire", autoretry_for=DATABASE_ERRORS, **RETRY)
def orders_expire() -> list[str]:
    """Cancel orders unpaid for ORDER_RESERVATION_MINUTES and return their stock; returns their
    numbers. Idempotent: each order is re-checked under its lock."""
    return services.orders_expire()
