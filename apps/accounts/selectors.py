"""Reads for accounts, always scoped to who may see them."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet

from apps.accounts.exceptions import NoStore
from apps.accounts.models import Address, Store, User
from apps.core.exceptions import NotFound
from apps.core.money import money


def address_list_for_user(*, user: User) -> QuerySet[Address]:
    return Address.objects.filter(user=user).order_by("-is_default", "id")


def address_get_for_user(*, user: User, address_id: int) -> Address:
    """The user's own address; another user's (or none) is NotFound, never revealed."""
    address = Address.objects.filter(user=user, pk=address_id).first()
    if address is None:
        raise NotFound("Address not found.")
    return address


def store_get_for_owner(*, user: User) -> Store:
    store = Store.objects.filter(owner=user).first()
    if store is None:
        raise NoStore()
    return store


def store_commission_rate(*, store: Store) -> Decimal:
    """The percent Bazaar keeps of the store's item subtotal: its override, else the deployment's
    COMMISSION_RATE. Reads the loaded row: no query."""
    rate = store.commission_rate if store.commission_rate is not None else settings.COMMISSION_RATE
    return money(rate)
