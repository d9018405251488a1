"""Writes of sellers' shipping rates. A store's rates are written under its owner's row lock
(apps.accounts.locks.lock_user, which also serialises the owner's store and address writes), so two
concurrent creates cannot pass the MAX_RATES_PER_STORE check together.

Store orders keep a snapshot of the rate they ship with (name, price, days) and point at it with a
SET_NULL foreign key: editing or deleting a rate changes no order."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from rest_framework.exceptions import ValidationError

from apps.accounts.locks import lock_user
from apps.accounts.models import Store
from apps.shipping.locks import lock_shipping_rate
from apps.shipping.models import MAX_RATES_PER_STORE, ShippingRate

WRITABLE_FIELDS = ("name", "countries", "price", "free_over", "min_days", "max_days", "is_active")


def normalised_countries(codes: Iterable[str]) -> list[str]:
    """ISO 3166-1 alpha-2 codes in upper case, each once, in the order first given."""
    return list(dict.fromkeys(code.upper() for code in codes))


def _check_days(*, min_days: int, max_days: int) -> None:
    if min_days > max_days:
        raise ValidationError({"min_days": ["Must not be more than max_days."]})


@transaction.atomic
def shipping_rate_create(
    *,
    store: Store,
    name: str,
    price: Decimal,
    min_days: int,
    max_days: int,
    countries: Iterable[str] = (),
    free_over: Decimal | None = None,
    is_active: bool = True,
) -> ShippingRate:
    """A new rate of ``store`` (``countries`` empty: it ships everywhere). Raises ValidationError
    (``min_days`` above ``max_days``; or the store has MAX_RATES_PER_STORE already, as the address
    limit answers: ``non_field_errors``)."""
    _check_days(min_days=min_days, max_days=max_days)
    lock_user(pk=store.owner_id)
    if ShippingRate.objects.filter(store=store).count() >= MAX_RATES_PER_STORE:
        raise ValidationError({"non_field_errors": [f"At most {MAX_RATES_PER_STORE} shipping rates per store."]})
    return ShippingRate.objects.create(
        store=store,
        name=name,
        countries=normalised_countries(countries),
        price=price,
        free_over=free_over,
        min_days=min_days,
        max_days=max_days,
        is_active=is_active,
    )


@transaction.atomic
def shipping_rate_update(*, rate: ShippingRate, data: dict[str, Any]) -> ShippingRate:
    """Change the fields of ``rate`` given in ``data`` (others are kept). Raises ValidationError
    when the result would have ``min_days`` above ``max_days``; nothing changes then. The rate is
    re-read under its row lock, so a concurrent edit is checked against what it wrote."""
    rate = lock_shipping_rate(pk=rate.pk)
    changes = {field: data[field] for field in WRITABLE_FIELDS if field in data}
    if "countries" in changes:
        changes["countries"] = normalised_countries(changes["countries"])
    _check_days(
        min_days=changes.get("min_days", rate.min_days),
        max_days=changes.get("max_days", rate.max_days),
    )
    for field, value in changes.items():
        setattr(rate, field, value)
    rate.save(update_fields=[*changes, "updated_at"])
    return rate


@transaction.atomic
def shipping_rate_delete(*, rate: ShippingRate) -> None:
    """Delete ``rate``; store orders shipped with it keep their snapshot (their FK becomes null)."""
    rate.delete()
