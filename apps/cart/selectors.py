"""Reads of the cart: its lines at current prices, and how each of its stores can ship them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch

from apps.accounts.models import User
from apps.accounts.selectors import address_get_for_user
from apps.cart.models import CartItem
from apps.catalog.models import ProductImage
from apps.core.money import money
from apps.shipping.selectors import ShippingOption, shipping_options


@dataclass
class CartView:
    items: list[CartItem]
    subtotal: Decimal
    currency: str
    item_count: int


def cart_get_for_user(*, user: User) -> CartView:
    """The user's cart at current prices (each line at its variant's price), in two queries: the
    lines with product, store and variant, and the products' images."""
    items = list(
        CartItem.objects.filter(cart__user=user)
        .select_related("product__store", "variant")
        .defer("product__description", "product__search_vector")
        .prefetch_related(Prefetch("product__images", queryset=ProductImage.objects.order_by("position", "id")))
        .order_by("id")
    )
    for item in items:
        item.unit_price = item.variant.price
        item.line_total = money(item.variant.price * item.quantity)
    return CartView(
        items=items,
        subtotal=money(sum((item.line_total for item in items), Decimal("0"))),
        currency=settings.DEFAULT_CURRENCY,
        item_count=sum(item.quantity for item in items),
    )


@dataclass
class StoreShipping:
    """One store of a cart: ``store`` as embedded elsewhere (``{slug, name}``), the cart's item
    subtotal for it, and the options it ships with (cheapest first; ``[]``: none to there)."""

    store: dict[str, str]
    subtotal: Decimal
    options: list[ShippingOption]


def cart_shipping_options(
    *, user: User, country: str | None = None, address_id: int | None = None
) -> list[StoreShipping]:
    """How each store of the user's cart ships its lines to ``country`` (ISO 3166-1 alpha-2) or to
    the country of the user's address ``address_id`` (another user's is NotFound), ordered by store
    name: every line counts, at its variant's current price, as in the cart's subtotal; a rate's
    ``free_over`` applies to that store's subtotal (apps.shipping.selectors.shipping_options).
    Two queries (the lines, the rates), one more for an address; none for rates when the cart is empty."""
    if address_id is not None:
        country = address_get_for_user(user=user, address_id=address_id).country.code
    lines = CartItem.objects.filter(cart__user=user).values_list(
        "product__store_id", "product__store__slug", "product__store__name", "variant__price", "quantity"
    )
    stores: dict[int, dict[str, str]] = {}
    subtotals: dict[int, Decimal] = defaultdict(Decimal)
    for store_id, slug, name, price, quantity in lines:
        stores[store_id] = {"slug": slug, "name": name}
        subtotals[store_id] += price * quantity
    if not stores:
        return []
    options = shipping_options(store_subtotals={pk: money(total) for pk, total in subtotals.items()}, country=country)
    ordered = sorted(stores, key=lambda pk: (stores[pk]["name"], stores[pk]["slug"]))
    return [StoreShipping(store=stores[pk], subtotal=money(subtotals[pk]), options=options[pk]) for pk in ordered]
