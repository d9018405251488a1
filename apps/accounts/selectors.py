"""Reads for accounts, always scoped to who may see them."""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from apps.accounts.exceptions import NoStore
from apps.accounts.models import Address, Store, User
from apps.catalog.models import Product
from apps.core.exceptions import NotFound


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


def store_list_public() -> QuerySet[Store]:
    """Active stores, each with ``product_count`` (its active products) from one correlated subquery,
    evaluated only for the rows of the page."""
    active_products = (
        Product.objects.filter(store=OuterRef("pk"), status=Product.Status.ACTIVE)
        .order_by()
        .values("store")
        .annotate(total=Count("*"))
        .values("total")
    )
    return (
        Store.objects.filter(is_active=True)
        .annotate(product_count=Coalesce(Subquery(active_products), 0))
        .order_by("name", "id")
    )


def store_get_public(*, slug: str) -> Store:
    store = store_list_public().filter(slug=slug).first()
    if store is None:
        raise NotFound("Store not found.")
    return store
