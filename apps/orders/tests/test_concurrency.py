"""Real concurrency on PostgreSQL: threads, each with its own connection, racing for stock."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Product, Variant
from apps.catalog.stock import products_refresh
from apps.catalog.tests.factories import ProductFactory, VariantFactory
from apps.orders.models import Order
from apps.orders.services import order_place
from apps.orders.tests.factories import ADDRESS, fill_cart, fill_cart_variants, stock_set

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(calls):
    """Run every call in its own thread, released at once by a barrier; close their connections."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait()
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_thirty_buyers_racing_for_five_units_make_exactly_five_orders(client_for):
    product = ProductFactory(stock=5)
    buyers = UserFactory.create_batch(30)
    for buyer in buyers:
        stock_set(product, 5)
        fill_cart(buyer, (product, 1))
    clients = [client_for(buyer) for buyer in buyers]

    responses = run_together(
        [lambda c=c: c.post("/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json") for c in clients]
    )

    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 5
    assert codes.count(409) == 25
    assert all(r.json()["code"] == "insufficient_stock" for r in responses if r.status_code == 409)
    assert Product.objects.get(pk=product.pk).stock == 0
    assert Order.objects.count() == 5


def test_opposite_cart_orders_do_not_deadlock():
    first, second = ProductFactory(stock=100), ProductFactory(stock=100)
    buyers = UserFactory.create_batch(8)
    for index, buyer in enumerate(buyers):
        pairs = [(first, 1), (second, 1)] if index % 2 else [(second, 1), (first, 1)]
        fill_cart(buyer, *pairs)

    orders = run_together([lambda b=b: order_place(buyer=b, shipping_address=ADDRESS).number for b in buyers])

    assert len(set(orders)) == 8
    assert Product.objects.get(pk=first.pk).stock == 92
    assert Product.objects.get(pk=second.pk).stock == 92


def test_two_concurrent_requests_with_one_key_make_one_order(client_for):
    buyer = UserFactory()
    product = ProductFactory(stock=10)
    fill_cart(buyer, (product, 1))
    clients = [client_for(buyer) for _ in range(4)]

    responses = run_together(
        [
            lambda c=c: c.post(
                "/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json", HTTP_IDEMPOTENCY_KEY="same"
            )
            for c in clients
        ]
    )

    assert Order.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 9
    numbers = {r.json()["number"] for r in responses if r.status_code == 201}
    assert len(numbers) == 1
    assert all(r.status_code in (201, 409) for r in responses)


def _two_sizes(*, small: int, medium: int):
    product = ProductFactory(options=[{"name": "Size", "values": ["S", "M"]}], default_variant=False)
    s = VariantFactory(product=product, options={"Size": "S"}, stock=small)
    m = VariantFactory(product=product, options={"Size": "M"}, stock=medium)
    products_refresh(product_ids=[product.pk])
    return product, s, m


def test_thirty_buyers_racing_for_a_variants_last_five_units_leave_the_other_variant_alone(client_for):
    product, small, medium = _two_sizes(small=5, medium=7)
    buyers = UserFactory.create_batch(30)
    for buyer in buyers:
        fill_cart_variants(buyer, (small, 1))
    clients = [client_for(buyer) for buyer in buyers]

    responses = run_together(
        [lambda c=c: c.post("/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json") for c in clients]
    )

    codes = [r.status_code for r in responses]
    assert codes.count(201) == 5
    assert codes.count(409) == 25
    assert all(r.json()["code"] == "insufficient_stock" for r in responses if r.status_code == 409)
    assert Order.objects.count() == 5
    assert Variant.objects.get(pk=small.pk).stock == 0
    assert Variant.objects.get(pk=medium.pk).stock == 7
    assert Product.objects.get(pk=product.pk).stock == 7  # the sum of its variants


def test_two_buyers_taking_two_variants_in_opposite_orders_never_deadlock():
    rounds = 15
    product, small, medium = _two_sizes(small=100, medium=100)
    first, second = UserFactory(), UserFactory()

    for _ in range(rounds):
        fill_cart_variants(first, (small, 1), (medium, 2))
        fill_cart_variants(second, (medium, 2), (small, 1))
        numbers = run_together(
            [lambda b=b: order_place(buyer=b, shipping_address=ADDRESS).number for b in (first, second)]
        )
        assert len(set(numbers)) == 2

    assert Order.objects.count() == 2 * rounds
    assert Variant.objects.get(pk=small.pk).stock == 100 - 2 * rounds
    assert Variant.objects.get(pk=medium.pk).stock == 100 - 4 * rounds
    assert Product.objects.get(pk=product.pk).stock == 200 - 6 * rounds
