"""Reads for orders, scoped to who may see them: another user's order is a 404 by construction."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from apps.accounts.models import User
from apps.core.exceptions import NotFound
from apps.orders.models import LineStatus, Order, OrderEvent, OrderLine


def _with_details(queryset: QuerySet[Order], *, events: bool) -> QuerySet[Order]:
    queryset = queryset.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
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


def order_list_for_seller(*, seller: User) -> QuerySet[Order]:
    """Orders holding lines of the seller's store, each with only those lines prefetched."""
    store_id = seller.store.pk if hasattr(seller, "store") else None
    return (
        Order.objects.filter(lines__store_id=store_id)
        .distinct()
        .order_by("-created_at", "-id")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.filter(store_id=store_id).order_by("id"), to_attr="own_lines")
        )
    )


def order_line_received(*, buyer: User, product_id: int) -> bool:
    """Whether the buyer holds a delivered line of this product (who may review it)."""
    return OrderLine.objects.filter(order__buyer=buyer, product_id=product_id, status=LineStatus.DELIVERED).exists()
