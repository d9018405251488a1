"""Demo shipping rates for `make run` (seed_demo): each demo store gets a couple of rates.

Idempotent: a store's rate is found by name before it is made."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from apps.accounts.models import Store
from apps.shipping.models import ShippingRate
from apps.shipping.services import shipping_rate_create

# (name, countries, price, free_over, min_days, max_days): every demo store gets these.
DEMO_RATES: list[tuple[str, list[str], str, str | None, int, int]] = [
    ("Economy", [], "4.90", "50.00", 3, 7),
    ("Express", ["US", "CA", "GB", "DE", "FR"], "12.90", None, 1, 2),
]


def shipping_demo_rates(*, stores: Iterable[Store]) -> list[ShippingRate]:
    """Give each store the demo rates it does not have yet (by name); answers every demo rate."""
    rates = []
    for store in stores:
        existing = {rate.name: rate for rate in ShippingRate.objects.filter(store=store)}
        for name, countries, price, free_over, min_days, max_days in DEMO_RATES:
            rate = existing.get(name) or shipping_rate_create(
                store=store,
                name=name,
                countries=countries,
                price=Decimal(price),
                free_over=Decimal(free_over) if free_over is not None else None,
                min_days=min_days,
                max_days=max_days,
            )
            rates.append(rate)
    return rates
