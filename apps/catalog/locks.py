"""Named row locks of the catalog (one helper per lock, as Saleor's ``lock_objects.py``).

Every lock is ``select_for_update().order_by("pk")`` so that concurrent transactions take rows in
one order and cannot deadlock; callers re-read and re-check what they lock."""

from __future__ import annotations

from collections.abc import Iterable

from apps.catalog.models import Product, Variant


def lock_product(*, pk: int) -> Product:
    """One product, locked and freshly read (without its search vector, which nothing here needs):
    serialises its image uploads, reviews and deletion."""
    return Product.objects.select_for_update().defer("search_vector").get(pk=pk)


def lock_variants(*, ids: Iterable[int]) -> dict[int, Variant]:
    """The variants ``ids`` with their products and stores, locked (the variants' rows only), by
    primary key: the lock that checkout, cancellation and restocking take before moving stock."""
    return (
        Variant.objects.select_for_update(of=("self",))
        .select_related("product", "product__store")
        .defer("product__search_vector")
        .order_by("pk")
        .in_bulk(list(ids))
    )


def lock_product_with_variants(*, pk: int) -> tuple[Product, dict[int, Variant]]:
    """One product and every one of its variants, locked and freshly read: the variants first, by
    primary key, then the product, the order checkout takes them in (variants, then the product
    rows ``products_refresh`` updates), so the two cannot deadlock. Taken by every writer of a
    product's variants, and by product updates and deletion."""
    variants = Variant.objects.select_for_update().filter(product_id=pk).order_by("pk").in_bulk()
    return lock_product(pk=pk), variants
