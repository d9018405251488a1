"""The whole buyer → seller → buyer flow, through the API only."""

from decimal import Decimal

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory
from apps.orders.tests.factories import ADDRESS

pytestmark = pytest.mark.django_db


def test_buy_ship_deliver_review_path(settings, client_for):
    settings.SHIPPING_FLAT_RATE = Decimal("4.50")
    mug = ProductFactory(name="Mug", price=Decimal("12.50"), stock=5)
    book = ProductFactory(name="Book", price=Decimal("20.00"), stock=2)
    buyer = UserFactory()
    client = client_for(buyer)

    assert client.post("/api/v1/cart/items/", {"product": mug.slug, "quantity": 2}).status_code == 201
    response = client.post("/api/v1/cart/items/", {"product": book.slug, "quantity": 1})
    assert response.status_code == 201
    assert response.json()["subtotal"] == "45.00"
    assert response.json()["item_count"] == 3

    response = client.post(
        "/api/v1/checkout/",
        {"shipping_address": ADDRESS, "payment_method": "pm_card_visa"},
        HTTP_IDEMPOTENCY_KEY="checkout-1",
    )
    assert response.status_code == 201, response.json()
    order = response.json()
    assert order["status"] == "paid"
    assert order["subtotal"] == "45.00"
    assert order["shipping"] == "9.00"  # two stores
    assert order["total"] == "54.00"
    assert order["payment"]["status"] == "succeeded"
    assert order["payment"]["provider"] == "simulated"
    assert [e["to"] for e in order["events"]] == ["pending_payment", "paid"]
    assert client.get("/api/v1/cart/").json()["items"] == []
    mug.refresh_from_db()
    book.refresh_from_db()
    assert (mug.stock, book.stock) == (3, 1)

    mug_seller = client_for(mug.store.owner)
    seller_view = mug_seller.get("/api/v1/seller/orders/").json()
    assert seller_view["count"] == 1
    assert [line["product_name"] for line in seller_view["results"][0]["items"]] == ["Mug"]
    assert seller_view["results"][0]["shipping_address"]["city"] == "Springfield"

    number = order["number"]
    response = mug_seller.post(f"/api/v1/seller/orders/{number}/ship/", {"carrier": "UPS", "tracking_number": "1Z"})
    assert response.status_code == 200
    assert client.get(f"/api/v1/orders/{number}/").json()["status"] == "partially_shipped"
    assert mug_seller.post(f"/api/v1/seller/orders/{number}/ship/", {}).status_code == 409

    book_seller = client_for(book.store.owner)
    assert book_seller.post(f"/api/v1/seller/orders/{number}/ship/", {}).status_code == 200
    assert client.get(f"/api/v1/orders/{number}/").json()["status"] == "shipped"
    assert client.post(f"/api/v1/orders/{number}/cancel/").status_code == 409

    response = client.post(f"/api/v1/orders/{number}/confirm-delivery/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "delivered"
    assert {item["status"] for item in body["items"]} == {"delivered"}
    assert [e["to"] for e in body["events"]] == [
        "pending_payment",
        "paid",
        "partially_shipped",
        "shipped",
        "delivered",
    ]
    assert body["events"][2]["by"] == f"store:{mug.store.slug}"
    assert body["events"][4]["by"] == "buyer"
    assert Product.objects.get(pk=mug.pk).stock == 3


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/orders/AB%00C/"),
        ("GET", "/api/v1/orders/A%20B/"),
        ("POST", "/api/v1/orders/AB%00C/pay/"),
        ("POST", "/api/v1/seller/orders/AB%00C/ship/"),
    ],
)
def test_an_order_number_no_order_can_have_is_404_before_any_query(
    buyer_client, method, path, django_assert_num_queries
):
    # PostgreSQL refuses a NUL character with an error (a 500), not a miss: the URL never matches.
    with django_assert_num_queries(0):
        response = buyer_client.generic(method, path)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
