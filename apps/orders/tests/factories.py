"""Helpers to build carts and orders through the real services."""

from apps.cart.models import Cart, CartItem
from apps.cart.services import cart_item_add
from apps.catalog.models import Product, Variant
from apps.catalog.stock import products_refresh

ADDRESS = {
    "full_name": "Bea Buyer",
    "line1": "1 Market Street",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
}


def fill_cart(buyer, *pairs) -> None:
    """``fill_cart(buyer, (product, 2), (other, 1))``"""
    for product, quantity in pairs:
        cart_item_add(user=buyer, product_slug=product.slug, quantity=quantity)


def fill_cart_variants(buyer, *pairs) -> None:
    """``fill_cart_variants(buyer, (variant, 2), (other, 1))``: lines of given variants, written
    directly (the cart's own services pick a product's variant by sku; these tests only need the
    rows, in the order given)."""
    cart, _ = Cart.objects.get_or_create(user=buyer)
    for variant, quantity in pairs:
        CartItem.objects.create(cart=cart, product_id=variant.product_id, variant=variant, quantity=quantity)


def stock_set(product: Product, units: int) -> None:
    """Set the stock of a product sold in one form (its one variant), as a seller's edit would."""
    Variant.objects.filter(product=product).update(stock=units)
    products_refresh(product_ids=[product.pk])
