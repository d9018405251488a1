"""Variants through the API (API.md, Variants): the two creation forms, price/stock on products
with options, the variant endpoints, the option filter, limits and derived fields."""

from decimal import Decimal

import pytest
from django.http import QueryDict

from apps.catalog import services
from apps.catalog.cache import list_query_key
from apps.catalog.models import MAX_OPTIONS, MAX_VARIANTS, Product, Variant
from apps.catalog.serializers import VariantOutputSerializer
from apps.catalog.tests.conftest import image_bytes, upload
from apps.catalog.tests.factories import ProductFactory
from apps.orders.models import Order, OrderLine, StoreOrder

pytestmark = pytest.mark.django_db

LIST = "/api/v1/products/"
TEE = {
    "name": "Classic Tee",
    "category": "hammers",
    "status": "active",
    "options": [{"name": "Size", "values": ["S", "M", "L"]}, {"name": "Colour", "values": ["Red", "Blue"]}],
    "variants": [
        {"options": {"Size": "S", "Colour": "Red"}, "price": "15.00", "stock": 2},
        {"options": {"size": "m", "colour": "blue"}, "price": "12.50", "stock": 0},
        {"sku": "TEE-L-RED", "options": {"Size": "L", "Colour": "Red"}, "price": "18.00", "stock": 5},
    ],
}


# 11 x 10 combinations: more than MAX_VARIANTS.
GRID = [{"name": "a", "values": [f"a{n}" for n in range(11)]}, {"name": "b", "values": [f"b{n}" for n in range(10)]}]


def _grid(count: int) -> list[dict[str, str]]:
    return [{"a": a, "b": b} for a in GRID[0]["values"] for b in GRID[1]["values"]][:count]


def detail(slug: str) -> str:
    return f"/api/v1/products/{slug}/"


def variants_url(slug: str, sku: str | None = None) -> str:
    return f"/api/v1/products/{slug}/variants/" + (f"{sku}/" if sku else "")


@pytest.fixture
def tee(store, tree):
    return services.product_create(
        store=store,
        name="Classic Tee",
        category=tree["hammers"],
        status="active",
        options=TEE["options"],
        variants=[{**v, "price": Decimal(v["price"])} for v in TEE["variants"]],
    )


def _create(client, body) -> tuple[int, dict]:
    response = client.post(LIST, body, format="json")
    return response.status_code, response.json()


# --- Create -----------------------------------------------------------------------------------


def test_seller_creates_a_product_with_options_and_variants(seller_client, store, tree):
    status, body = _create(seller_client, TEE)

    assert status == 201
    assert body["options"] == TEE["options"]
    assert [(v["sku"], v["options"], v["price"], v["stock"], v["in_stock"]) for v in body["variants"]] == [
        ("classic-tee-s-red", {"Size": "S", "Colour": "Red"}, "15.00", 2, True),
        ("classic-tee-m-blue", {"Size": "M", "Colour": "Blue"}, "12.50", 0, False),  # the product's spelling
        ("TEE-L-RED", {"Size": "L", "Colour": "Red"}, "18.00", 5, True),
    ]
    # Derived: the lowest active price, the total stock.
    assert (body["price"], body["stock"], body["in_stock"]) == ("12.50", 7, True)
    product = Product.objects.get()
    assert (product.price, product.stock) == (Decimal("12.50"), 7)


def test_a_generated_sku_taken_in_the_store_gets_a_suffix(seller_client, store, tree):
    ProductFactory(store=store, category=tree["hammers"], slug="other", default_variant=False)
    Variant.objects.create(
        product=Product.objects.get(slug="other"), store=store, sku="classic-tee-s-red", price=1, stock=1
    )

    status, body = _create(seller_client, TEE)

    assert status == 201
    assert body["variants"][0]["sku"] == "classic-tee-s-red-2"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": "10.00"}, "non_field_errors"),  # both forms at once
        ({"options": None, "variants": None}, "price"),  # neither form
        ({"variants": None}, "variants"),  # options without variants
        ({"variants": []}, "variants"),
        ({"options": [{"name": "Size", "values": ["S", "s"]}]}, "options"),  # duplicate value
        ({"options": [{"name": "Size", "values": ["S"]}, {"name": "size", "values": ["M"]}]}, "options"),
        ({"options": [{"name": "  ", "values": ["S"]}]}, "options"),
        ({"options": [{"name": "Size", "values": [" "]}]}, "options"),
        ({"options": [{"name": "Size", "values": []}]}, "options"),
        ({"options": [{"name": "x" * 51, "values": ["S"]}]}, "options"),
        ({"options": [{"name": f"o{n}", "values": ["a"]} for n in range(MAX_OPTIONS + 1)]}, "options"),
        ({"variants": [{"options": {"Size": "S"}, "price": "1.00"}]}, "variants"),  # missing Colour
        ({"variants": [{"options": {"Size": "XL", "Colour": "Red"}, "price": "1.00"}]}, "variants"),
        ({"variants": [{"options": {"Size": "S", "Colour": "Red", "Fit": "Slim"}, "price": "1.00"}]}, "variants"),
        (
            {
                "variants": [
                    {"options": {"Size": "S", "Colour": "Red"}, "price": "1.00"},
                    {"options": {"size": "s", "colour": "RED"}, "price": "2.00"},
                ]
            },
            "variants",
        ),  # the same combination twice
        (
            {
                "variants": [
                    {"sku": "SAME", "options": {"Size": "S", "Colour": "Red"}, "price": "1.00"},
                    {"sku": "SAME", "options": {"Size": "M", "Colour": "Red"}, "price": "1.00"},
                ]
            },
            "variants",
        ),
        ({"variants": [{"sku": "has space", "options": {"Size": "S", "Colour": "Red"}, "price": "1.00"}]}, "variants"),
        ({"variants": [{"options": {"Size": "S", "Colour": "Red"}, "price": "0.00"}]}, "variants"),
        ({"variants": [{"options": {"Size": "S", "Colour": "Red"}, "price": 12}]}, "variants"),  # money is a string
    ],
)
def test_bad_options_or_variants_are_refused_naming_the_field(seller_client, tree, change, field):
    body = {key: value for key, value in {**TEE, **change}.items() if value is not None}

    status, answer = _create(seller_client, body)

    assert status == 400
    assert field in answer
    assert not Product.objects.exists()
    assert not Variant.objects.exists()


def test_more_than_max_variants_are_refused(seller_client, tree):
    body = {
        **TEE,
        "options": GRID,
        "variants": [{"options": combination, "price": "1.00"} for combination in _grid(MAX_VARIANTS + 1)],
    }

    status, answer = _create(seller_client, body)

    assert (status, list(answer)) == (400, ["variants"])
    assert not Product.objects.exists()


def test_a_sku_used_in_the_store_is_refused(seller_client, store, product):
    body = {**TEE, "variants": [{"sku": product.slug, "options": {"Size": "S", "Colour": "Red"}, "price": "1.00"}]}

    status, answer = _create(seller_client, body)

    assert status == 400
    assert "variants" in answer
    assert Product.objects.count() == 1


# --- Product update ---------------------------------------------------------------------------


@pytest.mark.parametrize("field", [{"price": "9.00"}, {"stock": 3}])
def test_price_or_stock_of_a_product_with_options_is_refused(seller_client, tee, field):
    response = seller_client.patch(detail(tee.slug), field, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "has_variants"
    assert "detail" in response.json()
    tee.refresh_from_db()
    assert (tee.price, tee.stock) == (Decimal("12.50"), 7)


def test_put_of_a_product_with_options_needs_no_price_or_stock(seller_client, tee):
    body = {"name": "Tee", "description": "", "category": "hammers", "status": "active"}

    response = seller_client.put(detail(tee.slug), body, format="json")

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["price"]) == ("Tee", "12.50")


def test_price_and_stock_of_a_simple_product_change_its_one_variant(seller_client, product):
    response = seller_client.patch(detail(product.slug), {"price": "7.25", "stock": 0}, format="json")

    assert response.status_code == 200
    assert (response.json()["price"], response.json()["stock"], response.json()["in_stock"]) == ("7.25", 0, False)
    assert list(product.variants.values_list("price", "stock")) == [(Decimal("7.25"), 0)]
    product.refresh_from_db()
    assert (product.price, product.stock) == (Decimal("7.25"), 0)


def test_options_may_gain_values(seller_client, tee):
    options = [{"name": "size", "values": ["S", "M", "L", "XL"]}, {"name": "Colour", "values": ["Red", "Blue"]}]

    response = seller_client.patch(detail(tee.slug), {"options": options}, format="json")

    assert response.status_code == 200
    assert response.json()["options"][0] == {"name": "Size", "values": ["S", "M", "L", "XL"]}
    added = seller_client.post(
        variants_url(tee.slug), {"options": {"Size": "XL", "Colour": "Red"}, "price": "20.00"}, format="json"
    )
    assert added.status_code == 201


@pytest.mark.parametrize(
    "options",
    [
        [{"name": "Size", "values": ["S", "M"]}, {"name": "Colour", "values": ["Red", "Blue"]}],  # a value removed
        [{"name": "Size", "values": ["M", "S", "L"]}, {"name": "Colour", "values": ["Red", "Blue"]}],  # reordered
        [{"name": "Colour", "values": ["Red", "Blue"]}, {"name": "Size", "values": ["S", "M", "L"]}],
        [{"name": "Size", "values": ["S", "M", "L"]}],  # an option removed
        [
            {"name": "Size", "values": ["S", "M", "L"]},
            {"name": "Colour", "values": ["Red", "Blue"]},
            {"name": "Fit", "values": ["Slim"]},
        ],  # an option added
    ],
)
def test_other_option_changes_are_refused(seller_client, tee, options):
    response = seller_client.patch(detail(tee.slug), {"options": options}, format="json")

    assert (response.status_code, list(response.json())) == (400, ["options"])
    tee.refresh_from_db()
    assert tee.options == TEE["options"]


@pytest.mark.parametrize(("option", "missing"), [({"name": "Size"}, "values"), ({"values": ["S", "M", "L"]}, "name")])
@pytest.mark.parametrize("method", ["patch", "put"])
def test_an_option_without_its_name_or_values_is_refused_in_a_patch_too(seller_client, tee, option, missing, method):
    """A PATCH is partial for the product, not for each option (DRF passes partial down: it was a 500)."""
    body = {"name": tee.name, "description": "", "category": tee.category.slug, "status": "active"}
    body["options"] = [option, {"name": "Colour", "values": ["Red", "Blue"]}]

    response = getattr(seller_client, method)(detail(tee.slug), body, format="json")

    assert response.status_code == 400
    assert response.json()["options"] == {"0": {missing: ["This field is required."]}}
    tee.refresh_from_db()
    assert tee.options == TEE["options"]


# --- Variant endpoints ------------------------------------------------------------------------


def test_the_owner_lists_variants_as_a_plain_array(seller_client, tee, django_assert_max_num_queries):
    Variant.objects.filter(sku="TEE-L-RED").update(is_active=False)

    with django_assert_max_num_queries(4):  # the user (token), the product, its images, its variants
        response = seller_client.get(variants_url(tee.slug))

    assert response.status_code == 200
    assert [(v["sku"], v["is_active"]) for v in response.json()] == [
        ("classic-tee-s-red", True),
        ("classic-tee-m-blue", True),
        ("TEE-L-RED", False),
    ]
    assert set(response.json()[0]) == {"sku", "options", "price", "stock", "in_stock", "image_id", "is_active"}


def test_the_variant_list_runs_constant_queries(seller_client, tee, django_assert_num_queries):
    for number in range(5):
        Variant.objects.create(product=tee, store=tee.store, sku=f"extra-{number}", options_key=str(number), price=1)

    with django_assert_num_queries(4):
        response = seller_client.get(variants_url(tee.slug))

    assert len(response.json()) == 8


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 401), ("buyer", 403), ("other_seller", 403), ("staff", 200)]
)
def test_who_may_read_and_write_variants(clients, tee, role, status):
    client = clients[role]

    assert client.get(variants_url(tee.slug)).status_code == status
    body = {"options": {"Size": "M", "Colour": "Red"}, "price": "1.00"}
    assert client.post(variants_url(tee.slug), body, format="json").status_code == (201 if status == 200 else status)
    assert client.patch(variants_url(tee.slug, "TEE-L-RED"), {"stock": 1}, format="json").status_code == status


def test_owner_adds_a_variant_and_the_product_is_refreshed(seller_client, tee):
    body = {"options": {"size": "M", "colour": "RED"}, "price": "9.99", "stock": 4}

    response = seller_client.post(variants_url(tee.slug), body, format="json")

    assert response.status_code == 201
    assert response.json() == {
        "sku": "classic-tee-m-red",
        "options": {"Size": "M", "Colour": "Red"},
        "price": "9.99",
        "stock": 4,
        "in_stock": True,
        "image_id": None,
        "is_active": True,
    }
    tee.refresh_from_db()
    assert (tee.price, tee.stock) == (Decimal("9.99"), 11)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"options": {"Size": "XL", "Colour": "Red"}, "price": "1.00"}, "options"),  # a value it does not have
        ({"options": {"Size": "M"}, "price": "1.00"}, "options"),  # an option missing
        ({"options": {"Size": "s", "Colour": "red"}, "price": "1.00"}, "options"),  # a taken combination
        ({"sku": "TEE-L-RED", "options": {"Size": "M", "Colour": "Red"}, "price": "1.00"}, "sku"),
        ({"sku": "a/b", "options": {"Size": "M", "Colour": "Red"}, "price": "1.00"}, "sku"),
        ({"options": {"Size": "M", "Colour": "Red"}, "price": "1.00", "image_id": 999999}, "image_id"),
        ({"options": {"Size": "M", "Colour": "Red"}}, "price"),
        ({"options": {"Size": "M", "Colour": "Red"}, "price": "1.00", "stock": -1}, "stock"),
    ],
)
def test_bad_variants_are_refused(seller_client, tee, body, field):
    response = seller_client.post(variants_url(tee.slug), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert tee.variants.count() == 3


def test_a_simple_product_takes_no_second_variant(seller_client, product):
    response = seller_client.post(variants_url(product.slug), {"price": "1.00"}, format="json")

    assert (response.status_code, list(response.json())) == (400, ["options"])


def test_a_product_has_at_most_max_variants(seller_client, store, tree):
    *full, extra = _grid(MAX_VARIANTS + 1)
    product = services.product_create(
        store=store,
        name="Many",
        category=tree["hammers"],
        options=GRID,
        variants=[{"options": combination, "price": Decimal("1.00")} for combination in full],
    )

    response = seller_client.post(variants_url(product.slug), {"options": extra, "price": "1"}, format="json")

    assert (response.status_code, list(response.json())) == (400, ["variants"])


def test_an_image_of_another_product_is_refused_and_its_own_accepted(seller_client, tee, product):
    other = services.product_image_add(product=product, file=upload(image_bytes()), size=len(image_bytes()))
    own = services.product_image_add(product=tee, file=upload(image_bytes()), size=len(image_bytes()))
    url = variants_url(tee.slug, "TEE-L-RED")

    assert seller_client.patch(url, {"image_id": other.pk}, format="json").status_code == 400
    response = seller_client.patch(url, {"image_id": own.pk}, format="json")

    assert (response.status_code, response.json()["image_id"]) == (200, own.pk)


def test_owner_changes_a_variant_and_the_product_follows(seller_client, tee, api_client):
    url = variants_url(tee.slug, "classic-tee-m-blue")

    response = seller_client.patch(url, {"sku": "TEE-M-BLUE", "price": "30.00", "stock": 1}, format="json")

    assert response.status_code == 200
    assert (response.json()["sku"], response.json()["price"], response.json()["in_stock"]) == (
        "TEE-M-BLUE",
        "30.00",
        True,
    )
    public = api_client.get(detail(tee.slug)).json()
    assert (public["price"], public["stock"]) == ("15.00", 8)


def test_a_sku_taken_in_the_store_is_refused_on_patch(seller_client, tee, product):
    response = seller_client.patch(variants_url(tee.slug, "TEE-L-RED"), {"sku": product.slug}, format="json")

    assert (response.status_code, list(response.json())) == (400, ["sku"])
    assert Variant.objects.filter(sku="TEE-L-RED").exists()


def test_an_unknown_sku_is_404(seller_client, tee, product):
    assert seller_client.patch(variants_url(tee.slug, "nope"), {"stock": 1}, format="json").status_code == 404
    # another product's sku is not this product's variant
    assert seller_client.delete(variants_url(tee.slug, product.slug)).status_code == 404


def test_an_inactive_variant_is_shown_in_the_detail_to_the_owner_only(seller_client, clients, tee, api_client):
    response = seller_client.patch(variants_url(tee.slug, "TEE-L-RED"), {"is_active": False}, format="json")

    assert response.status_code == 200
    skus = ["classic-tee-s-red", "classic-tee-m-blue"]
    assert [v["sku"] for v in api_client.get(detail(tee.slug)).json()["variants"]] == skus
    assert [v["sku"] for v in clients["buyer"].get(detail(tee.slug)).json()["variants"]] == skus
    assert len(seller_client.get(detail(tee.slug)).json()["variants"]) == 3
    assert [v["sku"] for v in clients["staff"].get(detail(tee.slug)).json()["variants"]] == skus
    assert len(clients["staff"].get(variants_url(tee.slug)).json()) == 3  # staff read them all here
    tee.refresh_from_db()
    assert (tee.price, tee.stock) == (Decimal("12.50"), 2)  # the inactive one no longer counts


def test_the_last_active_variant_cannot_be_deactivated_or_deleted(seller_client, product):
    url = variants_url(product.slug, product.slug)

    deactivate = seller_client.patch(url, {"is_active": False}, format="json")
    delete = seller_client.delete(url)

    assert (deactivate.status_code, deactivate.json()["code"]) == (409, "last_variant")
    assert (delete.status_code, delete.json()["code"]) == (409, "last_variant")
    assert product.variants.get().is_active


def test_owner_deletes_a_variant(seller_client, tee):
    response = seller_client.delete(variants_url(tee.slug, "classic-tee-m-blue"))

    assert response.status_code == 204
    assert not Variant.objects.filter(sku="classic-tee-m-blue").exists()
    tee.refresh_from_db()
    assert (tee.price, tee.stock) == (Decimal("15.00"), 7)


def _order_line(variant: Variant, buyer) -> OrderLine:
    product, store = variant.product, variant.store
    money = {"subtotal": variant.price, "shipping": 0, "total": variant.price}
    order = Order.objects.create(buyer=buyer, currency="USD", shipping_address={}, **money)
    store_order = StoreOrder.objects.create(
        order=order,
        store=store,
        store_name=store.name,
        store_slug=store.slug,
        commission_rate=10,
        commission=0,
        **money,
    )
    return OrderLine.objects.create(
        order=order,
        store_order=store_order,
        product=product,
        variant=variant,
        store=store,
        product_name=product.name,
        product_slug=product.slug,
        variant_sku=variant.sku,
        store_name=store.name,
        store_slug=store.slug,
        unit_price=variant.price,
        quantity=1,
        line_total=variant.price,
        currency="USD",
    )


def test_a_variant_an_order_references_is_deactivated_not_deleted(seller_client, tee, buyer, api_client):
    _order_line(Variant.objects.get(sku="classic-tee-s-red"), buyer)

    response = seller_client.delete(variants_url(tee.slug, "classic-tee-s-red"))

    assert response.status_code == 204
    assert Variant.objects.get(sku="classic-tee-s-red").is_active is False
    assert "classic-tee-s-red" not in [v["sku"] for v in api_client.get(detail(tee.slug)).json()["variants"]]
    tee.refresh_from_db()
    assert (tee.price, tee.stock) == (Decimal("12.50"), 5)


def test_variant_serializer_renders_as_declared(tee):
    for variant in tee.variants.all():
        serializer = VariantOutputSerializer(variant)
        assert serializer.data == serializer.declared_representation(variant)


# --- The option filter ------------------------------------------------------------------------


@pytest.fixture
def shirts(store, tree):
    def make(name, variants):
        return services.product_create(
            store=store,
            name=name,
            category=tree["hammers"],
            status="active",
            options=[{"name": "Size", "values": ["S", "M"]}, {"name": "Colour", "values": ["Red", "Blue"]}],
            variants=[
                {"options": {"Size": s, "Colour": c}, "price": Decimal("5.00"), "stock": stock}
                for s, c, stock in variants
            ],
        )

    return {
        "m-red": make("M Red", [("M", "Red", 1), ("S", "Blue", 1)]),
        "m-blue-s-red": make("Split", [("M", "Blue", 1), ("S", "Red", 1)]),  # M and Red, never together
        "m-red-sold-out": make("Sold Out", [("M", "Red", 0), ("S", "Blue", 1)]),
    }


def _slugs(client, query) -> set[str]:
    response = client.get(LIST + query)
    assert response.status_code == 200
    return {row["slug"] for row in response.json()["results"]}


def test_the_option_filter_wants_all_values_in_one_active_in_stock_variant(api_client, shirts, product):
    assert _slugs(api_client, "?option=size:M") == {"m-red", "split"}
    assert _slugs(api_client, "?option=SIZE:m&option=colour:RED") == {"m-red"}
    assert _slugs(api_client, "?option=Colour:Blue&option=Size:S") == {"m-red", "sold-out"}
    Variant.objects.filter(product=shirts["m-red"], options__Size="M").update(is_active=False)
    assert _slugs(api_client, "?option=size:M&option=colour:Red") == set()


def test_the_option_value_may_hold_a_colon(api_client, store, tree):
    services.product_create(
        store=store,
        name="Clock",
        category=tree["hammers"],
        status="active",
        options=[{"name": "Ratio", "values": ["16:9"]}],
        variants=[{"options": {"Ratio": "16:9"}, "price": Decimal("1.00"), "stock": 1}],
    )

    assert _slugs(api_client, "?option=ratio:16:9") == {"clock"}


@pytest.mark.parametrize("query", ["?option=size", "?option=:M", "?option=size:", "?option=size:%20"])
def test_a_malformed_option_filter_is_a_400_naming_it(api_client, query, product):
    response = api_client.get(LIST + query)

    assert (response.status_code, list(response.json())) == (400, ["option"])


def test_too_many_option_filters_are_refused(api_client, product):
    query = "?" + "&".join(f"option=o{n}:v" for n in range(MAX_OPTIONS + 1))

    assert api_client.get(LIST + query).status_code == 400


def test_the_filtered_list_runs_constant_queries(api_client, shirts, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = api_client.get(LIST + "?option=size:M&option=colour:red")

    assert response.json()["count"] == 1


def test_repeated_options_key_the_cache_apart_and_in_any_order():
    one = list_query_key(QueryDict("option=size:M"))
    both = list_query_key(QueryDict("option=size:M&option=colour:red"))
    swapped = list_query_key(QueryDict("option=colour:red&option=size:M"))

    assert len({one, both}) == 2
    assert both == swapped
