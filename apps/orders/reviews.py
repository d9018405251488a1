"""Reviews by buyers: who may review a product is decided by their orders, so the write lives here.

The catalog stores the review and keeps the product's rating (catalog.services.review_add); orders
may import the catalog, never the other way round (docs/architecture.md, Import layers)."""

from __future__ import annotations

from apps.accounts.models import User
from apps.catalog.exceptions import NotEligible
from apps.catalog.models import Product, Review
from apps.catalog.services import review_add
from apps.orders.selectors import order_line_received


def review_create(*, author: User, product: Product, rating: int, title: str = "", body: str = "") -> Review:
    """Add the author's review of a product they received and update the product's rating.

    Raises NotEligible (no delivered line of the product) or AlreadyReviewed."""
    if not order_line_received(buyer=author, product_id=product.pk):
        raise NotEligible()
    return review_add(author=author, product=product, rating=rating, title=title, body=body)
