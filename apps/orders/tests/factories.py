"""Helpers to build carts and orders through the real services."""

from apps.cart.services import cart_item_add

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
