"""Named row locks of shipping (one helper per lock)."""

from __future__ import annotations

from apps.shipping.models import ShippingRate


def lock_shipping_rate(*, pk: int) -> ShippingRate:
    """One rate, locked and freshly read: concurrent edits of its days cannot cross each other
    past the ``min_days <= max_days`` check."""
    return ShippingRate.objects.select_for_update().order_by("pk").get(pk=pk)
