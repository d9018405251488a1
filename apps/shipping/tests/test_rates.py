"""Sellers' shipping rates through the API: /api/v1/users/me/store/shipping-rates/ and .../{id}/."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from apps.accounts.tests.factories import StoreFactory, UserFactory
from apps.orders.models import Order, StoreOrder
from apps.shipping.demo import DEMO_RATES, shipping_demo_rates
from apps.shipping.models import MAX_RATES_PER_STORE, ShippingRate
from apps.shipping.tests.factories import ShippingRateFactory

pytestmark = pytest.mark.django_db

RATES = "/api/v1/users/me/store/shipping-rates/"
EXPRESS = {"name": "Express", "countries": ["us", "CA"], "price": "12.90", "min_days": 1, "max_days": 2}
NO_STORE = {"detail": "You have no store yet.", "code": "no_store"}
RATE_NOT_FOUND = {"detail": "Shipping rate not found.", "code": "not_found"}


def rate_url(rate_id: int) -> str:
    return f"{RATES}{rate_id}/"


def rates_of(store) -> list[tuple]:
    """The store's rates as stored, oldest first."""
    return list(
        ShippingRate.objects.filter(store=store)
        .order_by("id")
        .values_list("name", "countries", "price", "free_over", "min_days", "max_days", "is_active")
    )


# --- Creating ---------------------------------------------------------------------------------


def test_create_answers_201_with_the_rate(seller_client, seller):
    response = seller_client.post(RATES, {**EXPRESS, "free_over": "100.00", "is_active": False}, format="json")

    assert response.status_code == 201
    rate = ShippingRate.objects.get()
    assert response.json() == {
        "id": rate.pk,
        "name": "Express",
        "countries": ["US", "CA"],
        "price": "12.90",
        "free_over": "100.00",
        "min_days": 1,
        "max_days": 2,
        "is_active": False,
    }
    assert rate.store == seller.store


def test_create_defaults_to_everywhere_never_free_and_active(seller_client, seller):
    body = {"name": "Post", "price": "0", "min_days": 0, "max_days": 0}

    response = seller_client.post(RATES, body, format="json")

    assert response.status_code == 201
    assert response.json()["countries"] == []
    assert response.json()["free_over"] is None
    assert response.json()["is_active"] is True
    assert rates_of(seller.store) == [("Post", [], Decimal("0.00"), None, 0, 0, True)]


def test_countries_are_upper_cased_and_each_kept_once_in_the_order_given(seller_client, seller):
    response = seller_client.post(RATES, {**EXPRESS, "countries": ["de", "FR", "De", "fr", "US"]}, format="json")

    assert response.status_code == 201
    assert response.json()["countries"] == ["DE", "FR", "US"]
    assert ShippingRate.objects.get().countries == ["DE", "FR", "US"]


def test_ids_and_store_in_the_body_are_ignored(seller_client, seller):
    other = StoreFactory()

    response = seller_client.post(RATES, {**EXPRESS, "id": 999, "store": other.slug}, format="json")

    assert response.status_code == 201
    assert response.json()["id"] != 999
    assert ShippingRate.objects.get().store == seller.store


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": 5}, "name"),
        ({"name": None}, "name"),
        ({"countries": ["XX"]}, "countries"),
        ({"countries": ["USA"]}, "countries"),
        ({"countries": ["840"]}, "countries"),
        ({"countries": ["Germany"]}, "countries"),
        ({"countries": [5]}, "countries"),
        ({"countries": "US"}, "countries"),
        ({"countries": None}, "countries"),
        ({"countries": ["US"] * 251}, "countries"),
        ({"price": "-0.01"}, "price"),
        ({"price": "1000000.01"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": "1.999"}, "price"),
        ({"price": None}, "price"),
        ({"price": 0}, "price"),  # money is a JSON string (.ci/fuzz: a number was taken)
        ({"price": 4.9}, "price"),
        ({"free_over": ""}, "free_over"),  # not null in disguise (.ci/fuzz)
        ({"free_over": 50}, "free_over"),
        ({"free_over": "-1"}, "free_over"),
        ({"free_over": "1000000.01"}, "free_over"),
        ({"free_over": "NaN"}, "free_over"),
        ({"min_days": -1}, "min_days"),
        ({"min_days": 1.5}, "min_days"),
        ({"min_days": 3, "max_days": 2}, "min_days"),
        ({"max_days": 366, "min_days": 1}, "max_days"),
        ({"max_days": "soon"}, "max_days"),
        ({"is_active": "yes"}, "is_active"),
    ],
)
def test_create_refuses_bad_fields_naming_them_and_makes_nothing(seller_client, seller, change, field):
    response = seller_client.post(RATES, {**EXPRESS, **change}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not ShippingRate.objects.exists()


@pytest.mark.parametrize("missing", ["name", "price", "min_days", "max_days"])
def test_create_needs_name_price_and_days(seller_client, missing):
    body = {key: value for key, value in EXPRESS.items() if key != missing}

    response = seller_client.post(RATES, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [missing]
    assert not ShippingRate.objects.exists()


def test_the_price_and_free_over_may_be_zero_and_the_days_365(seller_client, seller):
    body = {**EXPRESS, "price": "0.00", "free_over": "0.00", "min_days": 365, "max_days": 365}

    response = seller_client.post(RATES, body, format="json")

    assert response.status_code == 201
    assert rates_of(seller.store) == [("Express", ["US", "CA"], Decimal("0.00"), Decimal("0.00"), 365, 365, True)]


def test_create_stops_at_the_limit_per_store(seller_client, seller):
    ShippingRateFactory.create_batch(MAX_RATES_PER_STORE, store=seller.store)

    response = seller_client.post(RATES, EXPRESS, format="json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [f"At most {MAX_RATES_PER_STORE} shipping rates per store."]}
    assert ShippingRate.objects.filter(store=seller.store).count() == MAX_RATES_PER_STORE


def test_the_limit_counts_only_my_stores_rates(seller_client, seller):
    ShippingRateFactory.create_batch(MAX_RATES_PER_STORE, store=StoreFactory())
    ShippingRateFactory.create_batch(MAX_RATES_PER_STORE - 1, store=seller.store)

    response = seller_client.post(RATES, EXPRESS, format="json")

    assert response.status_code == 201
    assert ShippingRate.objects.filter(store=seller.store).count() == MAX_RATES_PER_STORE


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_cannot_pass_the_limit_together(seller, client_for):
    """Creates race for the last free place: the owner's row lock lets exactly one in."""
    ShippingRateFactory.create_batch(MAX_RATES_PER_STORE - 1, store=seller.store)
    clients = [client_for(seller) for _ in range(6)]
    barrier = threading.Barrier(len(clients))

    def create(client):
        try:
            barrier.wait()
            return client.post(RATES, EXPRESS, format="json").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        codes = sorted(pool.map(create, clients))

    assert codes == [201] + [400] * (len(clients) - 1)
    assert ShippingRate.objects.filter(store=seller.store).count() == MAX_RATES_PER_STORE


# --- Reading ----------------------------------------------------------------------------------


def test_list_is_a_plain_array_of_my_rates_cheapest_first_inactive_included(seller_client, seller):
    dear = ShippingRateFactory(store=seller.store, name="Dear", price=Decimal("9.00"))
    cheap = ShippingRateFactory(store=seller.store, name="Cheap", price=Decimal("1.00"), is_active=False)
    ShippingRateFactory(name="Someone else's")

    response = seller_client.get(RATES)

    assert response.status_code == 200
    assert [(rate["id"], rate["name"], rate["is_active"]) for rate in response.json()] == [
        (cheap.pk, "Cheap", False),
        (dear.pk, "Dear", True),
    ]


def test_get_one_rate(seller_client, seller):
    rate = ShippingRateFactory(store=seller.store, name="Post", countries=["GB"], free_over=Decimal("30.00"))

    response = seller_client.get(rate_url(rate.pk))

    assert response.status_code == 200
    assert response.json() == {
        "id": rate.pk,
        "name": "Post",
        "countries": ["GB"],
        "price": "4.50",
        "free_over": "30.00",
        "min_days": 2,
        "max_days": 5,
        "is_active": True,
    }


def test_a_store_with_no_rates_lists_none(seller_client):
    response = seller_client.get(RATES)

    assert response.status_code == 200
    assert response.json() == []


# --- Changing and deleting ---------------------------------------------------------------------


@pytest.fixture
def rate(seller):
    return ShippingRateFactory(store=seller.store, name="Post", countries=["US"], min_days=2, max_days=5)


def test_patch_changes_only_the_fields_given(seller_client, seller, rate):
    response = seller_client.patch(rate_url(rate.pk), {"price": "6.00", "countries": ["gb", "ie"]}, format="json")

    assert response.status_code == 200
    assert response.json()["price"] == "6.00"
    assert response.json()["countries"] == ["GB", "IE"]
    assert rates_of(seller.store) == [("Post", ["GB", "IE"], Decimal("6.00"), None, 2, 5, True)]


def test_patch_can_set_and_clear_free_over_and_deactivate(seller_client, seller, rate):
    seller_client.patch(rate_url(rate.pk), {"free_over": "40.00"}, format="json")
    assert rates_of(seller.store)[0][3] == Decimal("40.00")

    response = seller_client.patch(rate_url(rate.pk), {"free_over": None, "is_active": False}, format="json")

    assert response.status_code == 200
    assert response.json()["free_over"] is None
    assert response.json()["is_active"] is False
    assert rates_of(seller.store) == [("Post", ["US"], Decimal("4.50"), None, 2, 5, False)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"min_days": 6}, "min_days"),  # above the stored max_days (5)
        ({"max_days": 1}, "min_days"),  # below the stored min_days (2)
        ({"min_days": 4, "max_days": 3}, "min_days"),
        ({"countries": ["ZZ"]}, "countries"),
        ({"price": "-1"}, "price"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"max_days": 400}, "max_days"),
    ],
)
def test_patch_refuses_bad_values_and_changes_nothing(seller_client, seller, rate, change, field):
    response = seller_client.patch(rate_url(rate.pk), change, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert rates_of(seller.store) == [("Post", ["US"], Decimal("4.50"), None, 2, 5, True)]


def test_patch_may_move_both_days_at_once(seller_client, seller, rate):
    response = seller_client.patch(rate_url(rate.pk), {"min_days": 7, "max_days": 9}, format="json")

    assert response.status_code == 200
    assert (response.json()["min_days"], response.json()["max_days"]) == (7, 9)


def test_delete_answers_204_and_removes_only_that_rate(seller_client, seller, rate):
    kept = ShippingRateFactory(store=seller.store, name="Kept")

    response = seller_client.delete(rate_url(rate.pk))

    assert response.status_code == 204
    assert response.content == b""
    assert list(ShippingRate.objects.values_list("pk", flat=True)) == [kept.pk]


def test_deleting_a_rate_leaves_the_store_orders_shipped_with_it_their_snapshot(seller_client, seller, rate):
    order = Order.objects.create(
        buyer=UserFactory(),
        currency="USD",
        subtotal=Decimal("10.00"),
        shipping=Decimal("4.50"),
        total=Decimal("14.50"),
        shipping_address={"country": "US"},
    )
    method = {"name": "Post", "min_days": 2, "max_days": 5}
    store_order = StoreOrder.objects.create(
        order=order,
        store=seller.store,
        store_name=seller.store.name,
        store_slug=seller.store.slug,
        subtotal=Decimal("10.00"),
        shipping=Decimal("4.50"),
        total=Decimal("14.50"),
        shipping_rate=rate,
        shipping_method=method,
        commission_rate=Decimal("10.00"),
        commission=Decimal("1.00"),
    )

    response = seller_client.delete(rate_url(rate.pk))

    assert response.status_code == 204
    store_order.refresh_from_db()
    assert store_order.shipping_rate is None
    assert (store_order.shipping_method, store_order.shipping) == (method, Decimal("4.50"))


@pytest.mark.parametrize(("method", "body"), [("get", None), ("patch", {"price": "0.00"}), ("delete", None)])
def test_another_stores_rate_is_404_and_unchanged(seller_client, method, body):
    theirs = ShippingRateFactory(name="Theirs")

    response = getattr(seller_client, method)(rate_url(theirs.pk), body, format="json")

    assert response.status_code == 404
    assert response.json() == RATE_NOT_FOUND
    assert ShippingRate.objects.filter(pk=theirs.pk, price=Decimal("4.50")).exists()


def test_an_unknown_rate_answers_like_another_stores(seller_client, rate):
    response = seller_client.get(rate_url(rate.pk + 1000))

    assert response.status_code == 404
    assert response.json() == RATE_NOT_FOUND


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", RATES, None),
        ("post", RATES, EXPRESS),
        ("get", f"{RATES}1/", None),
        ("patch", f"{RATES}1/", {"price": "1.00"}),
        ("delete", f"{RATES}1/", None),
    ],
)
def test_a_user_without_a_store_gets_what_my_store_answers_them(buyer_client, method, path, body):
    ShippingRateFactory(pk=1)

    response = getattr(buyer_client, method)(path, body, format="json")

    assert response.status_code == 404
    assert response.json() == NO_STORE == buyer_client.get("/api/v1/users/me/store/").json()
    assert ShippingRate.objects.count() == 1
    assert ShippingRate.objects.filter(pk=1, price=Decimal("4.50")).exists()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", RATES, None),
        ("post", RATES, EXPRESS),
        ("get", f"{RATES}1/", None),
        ("patch", f"{RATES}1/", {"price": "1.00"}),
        ("delete", f"{RATES}1/", None),
    ],
)
def test_anonymous_requests_are_401(api_client, method, path, body):
    ShippingRateFactory(pk=1)

    response = getattr(api_client, method)(path, body, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert ShippingRate.objects.filter(pk=1, price=Decimal("4.50")).exists()


# --- Demo data ----------------------------------------------------------------------------------


def test_demo_rates_are_made_once_per_store():
    stores = StoreFactory.create_batch(2)

    shipping_demo_rates(stores=stores)
    again = shipping_demo_rates(stores=stores)

    assert len(again) == 2 * len(DEMO_RATES)
    for store in stores:
        assert sorted(ShippingRate.objects.filter(store=store).values_list("name", flat=True)) == sorted(
            name for name, *_ in DEMO_RATES
        )
