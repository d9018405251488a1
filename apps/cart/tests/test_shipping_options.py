"""GET /api/v1/cart/shipping-options/: how each store of the cart ships it, and at what price
(API.md, Round 2, Store orders and shipping rates)."""

from decimal import Decimal

import pytest

from apps.accounts.tests.factories import AddressFactory, StoreFactory, UserFactory
from apps.cart.models import CartItem
from apps.cart.services import cart_item_add
from apps.catalog.models import Variant
from apps.catalog.tests.factories import CategoryFactory, ProductFactory
from apps.shipping.models import ShippingRate
from apps.shipping.tests.factories import ShippingRateFactory

pytestmark = pytest.mark.django_db

OPTIONS = "/api/v1/cart/shipping-options/"
FLAT = {"id": None, "name": "Standard", "price": "3.00", "min_days": None, "max_days": None}
# Pinned by measuring: user, the cart's lines with their stores and prices, the stores' rates;
# with address_id, the address too (measured: 3 and 4).
SHIPPING_OPTIONS_QUERIES = 4


@pytest.fixture(autouse=True)
def _flat_rate(settings):
    settings.SHIPPING_FLAT_RATE = Decimal("3.00")


@pytest.fixture
def three_stores(buyer):
    """A cart from three stores: "Bare" (no rates; 2 x 10.00), "Cheap & Quick" (three active rates
    and one switched off; 1 x 45.00 + 1 x 5.00) and "US Only" (one rate to the US; 1 x 7.50)."""
    bare = StoreFactory(name="Bare")
    ProductFactory(slug="bare-thing", store=bare, price=Decimal("10.00"))
    quick = StoreFactory(name="Cheap & Quick")
    ProductFactory(slug="big", store=quick, price=Decimal("45.00"))
    ProductFactory(slug="small", store=quick, price=Decimal("5.00"))
    us_only = StoreFactory(name="US Only")
    ProductFactory(slug="us-thing", store=us_only, price=Decimal("7.50"))
    rates = {
        "post": ShippingRateFactory(store=quick, name="Post", price=Decimal("6.00"), free_over=Decimal("50.00")),
        "courier": ShippingRateFactory(store=quick, name="Courier", price=Decimal("9.00"), min_days=1, max_days=1),
        "local": ShippingRateFactory(store=quick, name="Local", price=Decimal("2.00"), countries=["DE", "AT"]),
        "off": ShippingRateFactory(store=quick, name="Off", price=Decimal("0.00"), is_active=False),
        "us": ShippingRateFactory(store=us_only, name="USPS", price=Decimal("4.00"), countries=["US"]),
    }
    for slug, quantity in [("us-thing", 1), ("big", 1), ("bare-thing", 2), ("small", 1)]:
        cart_item_add(user=buyer, product_slug=slug, quantity=quantity)
    return {"bare": bare, "quick": quick, "us_only": us_only, **rates}


def test_one_entry_per_store_by_name_options_cheapest_first_as_this_cart_pays(buyer_client, three_stores):
    s = three_stores

    response = buyer_client.get(OPTIONS, {"country": "US"})

    assert response.status_code == 200
    assert response.json() == [
        {"store": {"slug": s["bare"].slug, "name": "Bare"}, "subtotal": "20.00", "options": [FLAT]},
        {
            "store": {"slug": s["quick"].slug, "name": "Cheap & Quick"},
            "subtotal": "50.00",
            "options": [
                # free_over 50.00 reached by this store's items (45.00 + 5.00)
                {"id": s["post"].pk, "name": "Post", "price": "0.00", "min_days": 2, "max_days": 5},
                {"id": s["courier"].pk, "name": "Courier", "price": "9.00", "min_days": 1, "max_days": 1},
            ],
        },
        {
            "store": {"slug": s["us_only"].slug, "name": "US Only"},
            "subtotal": "7.50",
            "options": [{"id": s["us"].pk, "name": "USPS", "price": "4.00", "min_days": 2, "max_days": 5}],
        },
    ]


def test_a_store_whose_rates_do_not_ship_there_has_no_options(buyer_client, three_stores):
    body = buyer_client.get(OPTIONS, {"country": "de"}).json()

    assert [(entry["store"]["name"], [(o["name"], o["price"]) for o in entry["options"]]) for entry in body] == [
        ("Bare", [("Standard", "3.00")]),
        ("Cheap & Quick", [("Post", "0.00"), ("Local", "2.00"), ("Courier", "9.00")]),
        ("US Only", []),
    ]


def test_free_over_counts_the_variants_prices_and_quantities(buyer_client, buyer, three_stores):
    CartItem.objects.filter(variant__sku="small").delete()  # 45.00 left: below 50.00

    body = buyer_client.get(OPTIONS, {"country": "US"}).json()

    assert body[1]["subtotal"] == "45.00"
    assert [(o["name"], o["price"]) for o in body[1]["options"]] == [("Post", "6.00"), ("Courier", "9.00")]

    Variant.objects.filter(sku="big").update(price=Decimal("50.00"))
    body = buyer_client.get(OPTIONS, {"country": "US"}).json()

    assert body[1]["subtotal"] == "50.00"
    assert [(o["name"], o["price"]) for o in body[1]["options"]] == [("Post", "0.00"), ("Courier", "9.00")]


def test_an_address_of_mine_gives_its_country(buyer_client, buyer, three_stores):
    address = AddressFactory(user=buyer, country="AT")

    by_address = buyer_client.get(OPTIONS, {"address_id": address.pk})

    assert by_address.status_code == 200
    assert by_address.json() == buyer_client.get(OPTIONS, {"country": "AT"}).json()
    assert by_address.json()[2]["options"] == []


@pytest.mark.parametrize("whose", ["another user's", "unknown"])
def test_an_address_not_mine_is_404(buyer_client, three_stores, whose):
    address = AddressFactory(user=UserFactory(), country="US")
    address_id = address.pk if whose == "another user's" else address.pk + 1000

    response = buyer_client.get(OPTIONS, {"address_id": address_id})

    assert response.status_code == 404
    assert response.json() == {"detail": "Address not found.", "code": "not_found"}


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({}, ["country", "address_id"]),
        ({"country": "US", "address_id": 1}, ["country", "address_id"]),
        ({"country": "XX"}, ["country"]),
        ({"country": "USA"}, ["country"]),
        ({"country": "840"}, ["country"]),
        ({"country": ""}, ["country", "address_id"]),  # an empty query parameter is no parameter
        ({"address_id": "abc"}, ["address_id"]),
        ({"address_id": 0}, ["address_id"]),
    ],
)
def test_bad_parameters_are_400_naming_them(buyer_client, three_stores, query, fields):
    response = buyer_client.get(OPTIONS, query)

    assert response.status_code == 400
    assert sorted(response.json()) == sorted(fields)


def test_an_empty_cart_has_no_stores(buyer_client, django_assert_max_num_queries):
    ShippingRateFactory()

    with django_assert_max_num_queries(2):
        response = buyer_client.get(OPTIONS, {"country": "US"})

    assert response.status_code == 200
    assert response.json() == []


def test_only_my_cart_counts(buyer_client, three_stores):
    other = UserFactory()
    ProductFactory(slug="theirs", store=StoreFactory(name="AAA first by name"))
    cart_item_add(user=other, product_slug="theirs", quantity=1)

    body = buyer_client.get(OPTIONS, {"country": "US"}).json()

    assert [entry["store"]["name"] for entry in body] == ["Bare", "Cheap & Quick", "US Only"]


def test_anonymous_is_401(api_client):
    response = api_client.get(OPTIONS, {"country": "US"})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_reading_the_options_changes_nothing(buyer_client, buyer, three_stores):
    before = list(CartItem.objects.order_by("id").values_list("id", "quantity", "updated_at"))
    rates_before = list(ShippingRate.objects.order_by("id").values())

    buyer_client.get(OPTIONS, {"country": "US"})

    assert list(CartItem.objects.order_by("id").values_list("id", "quantity", "updated_at")) == before
    assert list(ShippingRate.objects.order_by("id").values()) == rates_before


@pytest.mark.parametrize("stores", [1, 10])
@pytest.mark.parametrize("by", ["country", "address_id"])
def test_a_fixed_query_budget_whatever_the_stores_and_lines(
    buyer_client, buyer, django_assert_max_num_queries, stores, by
):
    category = CategoryFactory()
    for _ in range(stores):
        store = StoreFactory()
        ShippingRateFactory.create_batch(3, store=store)
        for product in ProductFactory.create_batch(3, store=store, category=category):
            cart_item_add(user=buyer, product_slug=product.slug, quantity=1)
    query = {"country": "US"} if by == "country" else {"address_id": AddressFactory(user=buyer, country="US").pk}

    with django_assert_max_num_queries(
        SHIPPING_OPTIONS_QUERIES if by == "address_id" else SHIPPING_OPTIONS_QUERIES - 1
    ):
        response = buyer_client.get(OPTIONS, query)

    assert [len(entry["options"]) for entry in response.json()] == [3] * stores
