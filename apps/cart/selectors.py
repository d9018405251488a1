from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch

from apps.accounts.models import User
from apps.cart.models import CartItem
from apps.catalog.models import ProductImage
from apps.core.money import money


@dataclass
class CartView:
    items: list[CartItem]
    subtotal: Decimal
    currency: str
    item_count: int


def cart_get_for_user(*, user: User) -> CartView:
    """The user's cart at current prices, in a fixed number of queries."""
    items = list(
        CartItem.objects.filter(cart__user=user)
        .select_related("product__store")
        .prefetch_related(Prefetch("product__images", queryset=ProductImage.objects.order_by("position", "id")))
        .order_by("id")
    )
    for item in items:
        item.unit_price = item.product.price
        item.line_total = money(item.product.price * item.quantity)
    return CartView(
        items=items,
        subtotal=money(sum((item.line_total for item in items), Decimal("0"))),
        currency=settings.DEFAULT_CURRENCY,
        item_count=sum(item.quantity for item in items),
    )
