"""Reads of returns, scoped to who may see them: another buyer's order, another store's return is
a 404 or an empty list by construction."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from apps.accounts.models import User
from apps.core.exceptions import NotFound
from apps.orders.models import Order
from apps.returns.models import ReturnLine, ReturnRequest


def _with_details(queryset: QuerySet[ReturnRequest]) -> QuerySet[ReturnRequest]:
    """Newest first, each with its order, store order, refund and lines: three queries a page."""
    return (
        queryset.order_by("-created_at", "-id")
        .select_related("order", "store_order", "refund")
        .prefetch_related(Prefetch("lines", queryset=ReturnLine.objects.select_related("line").order_by("id")))
    )


def return_list_for_order(*, buyer: User, number: str) -> QuerySet[ReturnRequest]:
    """The returns of the buyer's order ``number``; another user's order is NotFound."""
    order_id = Order.objects.filter(buyer=buyer, number=number).values_list("pk", flat=True).first()
    if order_id is None:
        raise NotFound("Order not found.")
    return _with_details(ReturnRequest.objects.filter(order_id=order_id))


def return_list_for_seller(*, seller: User, status: str | None = None) -> QuerySet[ReturnRequest]:
    """The returns asked of the seller's store, with ``status`` when given."""
    store_id = seller.store.pk if hasattr(seller, "store") else None
    queryset = ReturnRequest.objects.filter(store_order__store_id=store_id)
    if status:
        queryset = queryset.filter(status=status)
    return _with_details(queryset)


def return_get(*, pk: int) -> ReturnRequest:
    """A return with its details, for an answer (the caller found it through a scoped service)."""
    return _with_details(ReturnRequest.objects.filter(pk=pk)).get()
