"""Product reviews (/api/v1/products/{slug}/reviews/): anyone reads them, buyers who received it write one."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Product, Review
from apps.catalog.tests.factories import ProductFactory
from apps.orders.models import LineStatus, OrderLine
from apps.orders.services import order_place
from apps.orders.tests.factories import ADDRESS, fill_cart

pytestmark = pytest.mark.django_db


def bought(buyer, product, *, status=LineStatus.DELIVERED):
    fill_cart(buyer, (product, 1))
    order = order_place(buyer=buyer, shipping_address=ADDRESS)
    OrderLine.objects.filter(order=order).update(status=status)
    return order


def review(client, product, rating=5, **extra):
    return client.post(f"/api/v1/products/{product.slug}/reviews/", {"rating": rating, **extra}, format="json")


def test_a_buyer_who_received_the_product_reviews_it_and_the_rating_updates(client_for):
    product = ProductFactory()
    first, second = UserFactory(first_name="Ada", last_name="Byron"), UserFactory()
    bought(first, product)
    bought(second, product)

    response = review(client_for(first), product, 5, title="Great", body="Works.")
    assert response.status_code == 201
    assert response.json()["author_name"] == "Ada B."
    assert review(client_for(second), product, 2).status_code == 201

    product.refresh_from_db()
    assert (product.rating_avg, product.rating_count) == (Decimal("3.50"), 2)
    detail = client_for(first).get(f"/api/v1/products/{product.slug}/").json()
    assert (detail["rating_avg"], detail["rating_count"]) == ("3.50", 2)


@pytest.mark.parametrize("status", [LineStatus.PENDING, LineStatus.SHIPPED, LineStatus.CANCELLED])
def test_not_received_is_not_eligible(status, client_for):
    product, buyer = ProductFactory(), UserFactory()
    bought(buyer, product, status=status)

    response = review(client_for(buyer), product)

    assert (response.status_code, response.json()["code"]) == (403, "not_eligible")
    assert not Review.objects.exists()
    assert Product.objects.get(pk=product.pk).rating_count == 0


def test_never_bought_is_not_eligible(client_for):
    response = review(client_for(UserFactory()), ProductFactory())
    assert (response.status_code, response.json()["code"]) == (403, "not_eligible")


def test_a_second_review_is_a_conflict(client_for):
    product, buyer = ProductFactory(), UserFactory()
    bought(buyer, product)
    client = client_for(buyer)
    assert review(client, product, 4).status_code == 201

    response = review(client, product, 1)

    assert (response.status_code, response.json()["code"]) == (409, "already_reviewed")
    assert Product.objects.get(pk=product.pk).rating_avg == Decimal("4.00")


@pytest.mark.parametrize("rating", [0, 6, -1, "five", None, 4.5])
def test_rating_must_be_1_to_5(rating, client_for):
    product, buyer = ProductFactory(), UserFactory()
    bought(buyer, product)
    response = review(client_for(buyer), product, rating)
    assert response.status_code == 400
    assert "rating" in response.json()
    assert not Review.objects.exists()


def test_anyone_reads_reviews_paginated_newest_first_without_emails(client_for):
    product = ProductFactory()
    buyers = [UserFactory(first_name=f"B{i}", last_name="Z") for i in range(3)]
    for index, buyer in enumerate(buyers):
        bought(buyer, product)
        review(client_for(buyer), product, index + 1, title=f"t{index}")

    body = client_for(UserFactory()).get(f"/api/v1/products/{product.slug}/reviews/").json()
    anonymous = APIClient().get(f"/api/v1/products/{product.slug}/reviews/?page_size=2").json()

    assert body["count"] == 3
    assert [r["title"] for r in body["results"]] == ["t2", "t1", "t0"]
    assert set(body["results"][0]) == {"id", "rating", "title", "body", "author_name", "created_at"}
    assert "@" not in str(body)
    assert anonymous["count"] == 3
    assert len(anonymous["results"]) == 2


def test_anonymous_cannot_post_and_unknown_products_are_404():
    product = ProductFactory()
    assert review(APIClient(), product).status_code == 401
    assert APIClient().get("/api/v1/products/nope/reviews/").status_code == 404
    draft = ProductFactory(status=Product.Status.DRAFT)
    assert APIClient().get(f"/api/v1/products/{draft.slug}/reviews/").status_code == 404


def test_review_list_queries_do_not_grow_with_the_page(django_assert_max_num_queries, client_for):
    product = ProductFactory(stock=20)
    for _ in range(12):
        buyer = UserFactory()
        bought(buyer, product)
        review(client_for(buyer), product)
    for size in (1, 100):
        with django_assert_max_num_queries(3):  # the product's id, count, page
            assert APIClient().get(f"/api/v1/products/{product.slug}/reviews/?page_size={size}").status_code == 200
