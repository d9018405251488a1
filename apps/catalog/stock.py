"""Products' derived columns: ``price`` (lowest price of the active variants) and ``stock`` (their
total stock) are copies of the variants, rewritten here in the transaction that changes a variant.
Every writer of a variant's price, stock or ``is_active`` calls ``products_refresh`` before it
commits."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import IntegerField, Min, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from apps.catalog.models import Product, Variant


def products_refresh(*, product_ids: Iterable[int]) -> None:
    """Recompute ``price`` and ``stock`` of the products ``product_ids`` from their active variants,
    in one UPDATE. A product with no active variant keeps its price and shows no stock."""
    ids = sorted(set(product_ids))
    if not ids:
        return
    active = Variant.objects.filter(product=OuterRef("pk"), is_active=True).order_by().values("product")
    Product.objects.filter(pk__in=ids).update(
        price=Coalesce(Subquery(active.annotate(low=Min("price")).values("low")[:1]), "price"),
        stock=Coalesce(
            Subquery(active.annotate(total=Sum("stock")).values("total")[:1]),
            Value(0),
            output_field=IntegerField(),
        ),
    )
