"""A paid order of two stores, and a helper to refund through the API with its after-commit send;
for returns, an order of two stores delivered through the real API (apps/returns/tests/given.py)."""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import TestCase

from apps.accounts.models import Store
from apps.accounts.tests.factories import StoreFactory
from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory
from apps.orders.models import Order, OrderLine
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.returns.tests.given import Delivered, place_paid, ship
from apps.shipping.models import ShippingRate


def refunds_url(number: str) -> str:
    return f"/api/v1/seller/orders/{number}/refunds/"


def post_refund(client, number: str, body: dict, **headers):
    """POST a refund, running what it schedules after commit (the buyer's mail)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(refunds_url(number), body, format="json", **headers)


@dataclass
class Placed:
    number: str
    store: Store  # "first": a mug at 12.50 x 3 and a pen at 4.00 x 2, shipping 5.00
    other: Store  # "second": a lamp at 10.00 x 1, shipping 3.00
    mug: Product
    pen: Product
    lamp: Product

    @property
    def order(self) -> Order:
        return Order.objects.get(number=self.number)

    def line(self, product: Product) -> OrderLine:
        return OrderLine.objects.get(order__number=self.number, product=product)


def place_paid_order(buyer, client) -> Placed:
    store, other = StoreFactory(slug="first"), StoreFactory(slug="second")
    mug = ProductFactory(store=store, name="Mug", price=Decimal("12.50"), stock=10)
    pen = ProductFactory(store=store, name="Pen", price=Decimal("4.00"), stock=10)
    lamp = ProductFactory(store=other, name="Lamp", price=Decimal("10.00"), stock=10)
    ShippingRate.objects.create(store=store, name="Post", price=Decimal("5.00"), min_days=2, max_days=4)
    ShippingRate.objects.create(store=other, name="Post", price=Decimal("3.00"), min_days=2, max_days=4)
    fill_cart(buyer, (mug, 3), (pen, 2), (lamp, 1))
    response = client.post(
        "/api/v1/checkout/", {"shipping_address": ADDRESS, "payment_method": "pm_card_visa"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "paid"
    assert response.json()["total"] == "63.50"
    return Placed(response.json()["number"], store, other, mug, pen, lamp)


@pytest.fixture
def placed(buyer, buyer_client) -> Placed:
    return place_paid_order(buyer, buyer_client)


@pytest.fixture
def first_client(client_for, placed):
    return client_for(placed.store.owner)


@pytest.fixture
def second_client(client_for, placed):
    return client_for(placed.other.owner)


# --- returns ----------------------------------------------------------------------------------------


@pytest.fixture
def returns_settings(settings):
    """Payments on the simulated provider, a 4.50 flat rate for stores without rates."""
    settings.PAYMENT_PROVIDER = "simulated"
    settings.SHIPPING_FLAT_RATE = Decimal("4.50")


@pytest.fixture
def mug_product(db, returns_settings):
    return ProductFactory(name="Mug", price=Decimal("10.00"), stock=10)


@pytest.fixture
def book_product(db, returns_settings):
    return ProductFactory(name="Book", price=Decimal("5.00"), stock=10)


@pytest.fixture
def delivered(buyer, buyer_client, client_for, mug_product, book_product) -> Delivered:
    number = place_paid(buyer_client, buyer, (mug_product, 3), (book_product, 1))
    seller, other = mug_product.store.owner, book_product.store.owner
    ship(client_for, seller, number)
    ship(client_for, other, number)
    assert buyer_client.post(f"/api/v1/orders/{number}/confirm-delivery/").json()["status"] == "delivered"
    lines = dict(OrderLine.objects.filter(order__number=number).values_list("product_id", "pk"))
    return Delivered(number, lines[mug_product.pk], lines[book_product.pk], seller, other)


@pytest.fixture
def ask(buyer_client):
    """``ask(number, [(line id, units)], reason=...)``: the buyer's POST of a return."""

    def post(number, lines, reason="Too small", client=None):
        body = {"lines": [{"id": pk, "quantity": units} for pk, units in lines], "reason": reason}
        return (client or buyer_client).post(f"/api/v1/orders/{number}/returns/", body, format="json")

    return post
