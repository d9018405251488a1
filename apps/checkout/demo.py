"""Demo orders for `make run`: the demo buyer gets one delivered order (so a review can be
written) and one paid order waiting for its sellers, made through the real services."""

from __future__ import annotations

from django.conf import settings

from apps.accounts.models import User
from apps.cart.services import cart_item_add
from apps.catalog.models import Product
from apps.checkout.services import checkout_pay
from apps.orders.models import Order
from apps.orders.services import order_confirm_delivery, order_place, order_ship_lines

DEMO_ADDRESS = {
    "full_name": "Bea Buyer",
    "line1": "1 Market Street",
    "line2": "",
    "city": "Springfield",
    "region": "",
    "postal_code": "12345",
    "country": "US",
    "phone": "",
}


def orders_seed_demo(*, buyer: User) -> int:
    """Make the demo orders unless the buyer already has some, or payments are real (a configured
    Stripe account is never charged by a demo); returns how many were made."""
    if settings.PAYMENT_PROVIDER != "simulated" or Order.objects.filter(buyer=buyer).exists():
        return 0
    products = list(
        Product.objects.filter(status=Product.Status.ACTIVE, stock__gte=5).select_related("store").order_by("id")[:3]
    )
    if len(products) < 3:
        return 0
    delivered = _paid_order(buyer=buyer, products=products[:2])
    for seller in {product.store.owner for product in products[:2]}:
        order_ship_lines(seller=seller, number=delivered.number, carrier="DHL", tracking_number="DEMO-0001")
    order_confirm_delivery(order=delivered, actor=buyer)
    _paid_order(buyer=buyer, products=products[2:])
    return 2


def _paid_order(*, buyer: User, products: list[Product]) -> Order:
    for product in products:
        cart_item_add(user=buyer, product_slug=product.slug, quantity=1)
    order = order_place(buyer=buyer, shipping_address=DEMO_ADDRESS)
    checkout_pay(order=order, payment_method="pm_card_visa")
    return order
