"""Reads for orders, scoped to who may see them: another user's order is a 404 by construction."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from apps.accounts.models import User
from apps.core.exceptions import NotFound
from apps.orders.models import LineStatus, Order, OrderEvent, OrderLine, StoreOrder


def _with_details(queryset: QuerySet[Order], *, events: bool) -> QuerySet[Order]:
    queryset = queryset.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch("store_orders", queryset=StoreOrder.objects.order_by("id")),
        "payments",  # newest attempt first (the payment model's ordering); its first is the order's payment
    )
    if events:
        queryset = queryset.prefetch_related(
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor__store").order_by("at", "id"))
        )
    return queryset


def order_list_for_buyer(*, buyer: User, status: str | None = None) -> QuerySet[Order]:
    queryset = Order.objects.filter(buyer=buyer).order_by("-created_at", "-id")
    if status:
        queryset = queryset.filter(status=status)
    return _with_details(queryset, events=False)


def order_get_for_buyer(*, buyer: User, number: str, details: bool = True) -> Order:
    """The buyer's own order (another user's is NotFound). ``details=False`` skips prefetching
    lines, payments and events, for an action that re-reads the order under its lock anyway."""
    queryset = Order.objects.filter(buyer=buyer, number=number)
    order = (_with_details(queryset, events=True) if details else queryset).first()
    if order is None:
        raise NotFound("Order not found.")
    return order


def store_order_list_for_seller(*, seller: User) -> QuerySet[StoreOrder]:
    """The store orders of the seller's store, newest first, each with its order and its lines
    (this store's only): three queries for a page, whatever its size."""
    store_id = seller.store.pk if hasattr(seller, "store") else None
    return (
        StoreOrder.objects.filter(store_id=store_id)
        .order_by("-created_at", "-id")
        .select_related("order")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
    )


def store_order_get_for_seller(*, seller: User, number: str) -> StoreOrder:
    """The seller's store order of the order ``number``; an order without this store's lines (another
    seller's) is NotFound."""
    part = store_order_list_for_seller(seller=seller).filter(order__number=number).first()
    if part is None:
        raise NotFound("Order not found.")
    return part


def order_line_received(*, buyer: User, product_id: int) -> bool:
    """Whether the buyer holds a delivered line of this product (who may review it)."""
    return OrderLine.objects.filter(order__buyer=buyer, product_id=product_id, status=LineStatus.DELIVERED).exists()
