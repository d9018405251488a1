"""Reads of shipping rates: what each store of a cart can ship with, and at what price."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet

from apps.accounts.models import Store
from apps.core.exceptions import NotFound
from apps.core.money import money
from apps.shipping.models import ShippingRate

FLAT_RATE_NAME = "Standard"


def shipping_rate_list_for_store(*, store: Store) -> QuerySet[ShippingRate]:
    """The store's rates, inactive ones included, cheapest first."""
    return ShippingRate.objects.filter(store=store).order_by("price", "id")


def shipping_rate_get_for_store(*, store: Store, rate_id: int) -> ShippingRate:
    """One of the store's rates; another store's (or none) is NotFound, never revealed."""
    rate = ShippingRate.objects.filter(store=store, pk=rate_id).first()
    if rate is None:
        raise NotFound("Shipping rate not found.")
    return rate


@dataclass(frozen=True)
class ShippingOption:
    """One way a store can ship a cart's items: ``id`` None for the flat rate (a store with no
    active rate); ``price`` as this cart pays it (``free_over`` applied)."""

    id: int | None
    name: str
    price: Decimal
    min_days: int | None
    max_days: int | None

    def snapshot(self) -> dict:
        """What a store order keeps of the option chosen (later edits of the rate change no order)."""
        return {"name": self.name, "min_days": self.min_days, "max_days": self.max_days}


def flat_rate_option() -> ShippingOption:
    return ShippingOption(
        id=None, name=FLAT_RATE_NAME, price=money(settings.SHIPPING_FLAT_RATE), min_days=None, max_days=None
    )


def _ships_to(rate: ShippingRate, country: str) -> bool:
    return not rate.countries or country.upper() in rate.countries


def _price_for(rate: ShippingRate, subtotal: Decimal) -> Decimal:
    if rate.free_over is not None and subtotal >= rate.free_over:
        return money(0)
    return money(rate.price)


def shipping_options(*, store_subtotals: Mapping[int, Decimal], country: str) -> dict[int, list[ShippingOption]]:
    """For each store id with its item subtotal: the options that ship to ``country``, cheapest
    first (then fastest, then oldest). A store with no active rate ships at SHIPPING_FLAT_RATE (one
    option, ``id`` None); a store whose active rates don't ship there gets ``[]``. One query."""
    rates: dict[int, list[ShippingRate]] = defaultdict(list)
    for rate in ShippingRate.objects.filter(store_id__in=list(store_subtotals), is_active=True).order_by("pk"):
        rates[rate.store_id].append(rate)
    answer = {}
    for store_id, subtotal in store_subtotals.items():
        if not rates[store_id]:
            answer[store_id] = [flat_rate_option()]
            continue
        options = [
            ShippingOption(
                id=rate.pk,
                name=rate.name,
                price=_price_for(rate, subtotal),
                min_days=rate.min_days,
                max_days=rate.max_days,
            )
            for rate in rates[store_id]
            if _ships_to(rate, country)
        ]
        answer[store_id] = sorted(options, key=lambda option: (option.price, option.max_days, option.id))
    return answer
