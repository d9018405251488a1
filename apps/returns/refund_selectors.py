"""Reads for line refunds, scoped to who may refund: another seller's order is a 404 by construction."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from rest_framework.exceptions import ValidationError

from apps.accounts.models import User
from apps.core.exceptions import NotFound
from apps.orders.models import StoreOrder
from apps.payments.models import Refund, RefundLine


def refund_store_order_get(*, user: User, number: str, store: str | None = None) -> StoreOrder:
    """The store order of order ``number`` that ``user`` may refund. A seller's is their own store's
    (``store`` is not read): another seller's order is NotFound. Staff name the store by its slug
    (``store``), which they may leave out when the order has one store only; an order with several
    and no ``store`` is a ValidationError naming ``store``; an unknown order or store is NotFound."""
    parts = StoreOrder.objects.filter(order__number=number).select_related("order").order_by("pk")
    if not user.is_staff:
        part = parts.filter(store__owner=user).first()
    elif store:
        part = parts.filter(store_slug=store).first()
    else:
        found = list(parts[:2])
        if len(found) > 1:
            raise ValidationError({"store": ["This order has several stores: name the one to refund (its slug)."]})
        part = found[0] if found else None
    if part is None:
        raise NotFound("Order not found.")
    return part


def refund_list_for_store_order(*, store_order: StoreOrder) -> QuerySet[Refund]:
    """The store order's line refunds, oldest first, with their lines: two queries, however many."""
    return (
        Refund.objects.filter(store_order=store_order)
        .select_related("payment")
        .prefetch_related(Prefetch("lines", queryset=RefundLine.objects.order_by("id")))
        .order_by("created_at", "id")
    )


def refund_get(*, pk: int) -> Refund:
    """One refund with its lines, as the API renders it, read fresh (after it was sent)."""
    return (
        Refund.objects.select_related("payment")
        .prefetch_related(Prefetch("lines", queryset=RefundLine.objects.order_by("id")))
        .get(pk=pk)
    )
