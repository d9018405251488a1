"""Delivered orders to return, built through the real API: checkout paid on the simulated
provider, shipped by each seller, delivery confirmed by the buyer."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.catalog.tests.factories import ProductFactory
from apps.orders.models import OrderLine
from apps.returns.tests.given import Delivered, place_paid, ship


@pytest.fixture(autouse=True)
def _simulated(settings):
    settings.PAYMENT_PROVIDER = "simulated"
    settings.SHIPPING_FLAT_RATE = Decimal("4.50")


@pytest.fixture
def mug_product(db):
    return ProductFactory(name="Mug", price=Decimal("10.00"), stock=10)


@pytest.fixture
def book_product(db):
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
