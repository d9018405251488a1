"""The cart per variant (API.md, Round 2, Variants: the cart bullet): a line is a quantity of one
variant, named by its sku; stock is the variant's."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from apps.accounts.tests.factories import StoreFactory
from apps.cart.models import MAX_LINES, MAX_QUANTITY_PER_LINE, Cart, CartItem
from apps.cart.services import cart_item_add
from apps.catalog.models import Variant
from apps.catalog.stock import products_refresh
from apps.catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart/"
ITEMS = "/api/v1/cart/items/"
SHIRT_OPTIONS = [{"name": "Colour", "values": ["Red", "Blue"]}, {"name": "Size", "values": ["M", "L"]}]
VARIANT_NOT_FOUND = {"detail": "Variant not found.", "code": "not_found"}
VARIANT_REQUIRED = {
    "detail": "This product comes in several variants: choose one (variant: its sku).",
    "code": "variant_required",
}


def lines_of(user) -> list[tuple[str, str, int]]:
    """The user's cart as (product slug, variant sku, quantity), read from the database."""
    return list(
        CartItem.objects.filter(cart__user=user).order_by("id").values_list("product__slug", "variant__sku", "quantity")
    )


def product_with_variants(slug: str, *variants: tuple[str, dict, str, int], store=None, **fields):
    """A product with ``options`` and the variants (sku, options, price, stock), its derived price
    and stock refreshed as the catalog's services keep them."""
    product = ProductFactory(
        slug=slug, default_variant=False, options=SHIRT_OPTIONS, **({"store": store} if store else {}), **fields
    )
    for sku, options, price, stock in variants:
        VariantFactory(product=product, sku=sku, options=options, price=Decimal(price), stock=stock)
    products_refresh(product_ids=[product.pk])
    product.refresh_from_db()
    return product


@pytest.fixture
def shirt():
    """Red M at 20.00 (3 in stock), Blue L at 25.00 (1 in stock), Red L inactive (5 in stock)."""
    shirt = product_with_variants(
        "shirt",
        ("SHIRT-RED-M", {"Colour": "Red", "Size": "M"}, "20.00", 3),
        ("SHIRT-BLUE-L", {"Colour": "Blue", "Size": "L"}, "25.00", 1),
        ("SHIRT-RED-L", {"Colour": "Red", "Size": "L"}, "30.00", 5),
        name="Shirt",
        store__name="Threads",
    )
    Variant.objects.filter(sku="SHIRT-RED-L").update(is_active=False)
    products_refresh(product_ids=[shirt.pk])
    shirt.refresh_from_db()
    return shirt


def add(client, **body):
    return client.post(ITEMS, body, format="json")


# --- Adding a variant ----------------------------------------------------------------------------


def test_add_of_a_variant_shows_it_at_its_price_beside_the_products_price(buyer_client, buyer, shirt):
    response = add(buyer_client, product="shirt", variant="SHIRT-BLUE-L", quantity=1)

    assert response.status_code == 201
    (item,) = response.json()["items"]
    assert item["variant"] == {"sku": "SHIRT-BLUE-L", "options": {"Colour": "Blue", "Size": "L"}}
    assert (item["unit_price"], item["line_total"]) == ("25.00", "25.00")
    assert item["product"]["price"] == "20.00"  # the product's: its lowest active variant price
    assert response.json()["subtotal"] == "25.00"
    assert lines_of(buyer) == [("shirt", "SHIRT-BLUE-L", 1)]


def test_two_variants_of_one_product_are_two_lines_and_each_merges_with_itself(buyer_client, buyer, shirt):
    add(buyer_client, product="shirt", variant="SHIRT-RED-M", quantity=1)
    add(buyer_client, product="shirt", variant="SHIRT-BLUE-L", quantity=1)

    response = add(buyer_client, product="shirt", variant="SHIRT-RED-M", quantity=2)

    assert response.status_code == 201
    body = response.json()
    assert [(i["variant"]["sku"], i["quantity"], i["line_total"]) for i in body["items"]] == [
        ("SHIRT-RED-M", 3, "60.00"),
        ("SHIRT-BLUE-L", 1, "25.00"),
    ]
    assert (body["subtotal"], body["item_count"]) == ("85.00", 4)
    assert lines_of(buyer) == [("shirt", "SHIRT-RED-M", 3), ("shirt", "SHIRT-BLUE-L", 1)]


@pytest.mark.parametrize("body", [{}, {"variant": None}], ids=["absent", "null"])
def test_a_product_with_options_needs_a_variant(buyer_client, buyer, shirt, body):
    add(buyer_client, product="shirt", variant="SHIRT-RED-M", quantity=1)

    response = add(buyer_client, product="shirt", quantity=1, **body)

    assert response.status_code == 400
    assert response.json() == VARIANT_REQUIRED
    assert lines_of(buyer) == [("shirt", "SHIRT-RED-M", 1)]


@pytest.mark.parametrize("sku", ["NO-SUCH-SKU", "SHIRT-RED-L", "OTHER-SAME-STORE", "OTHER-STORE", "shirt-red-m"])
def test_a_variant_not_among_the_products_active_ones_is_404(buyer_client, buyer, shirt, sku):
    """Unknown, inactive, another product's (of the same store or another), and skus match exactly."""
    ProductFactory(slug="other-same-store", store=shirt.store)
    Variant.objects.filter(sku="other-same-store").update(sku="OTHER-SAME-STORE")
    ProductFactory(slug="other-store")
    Variant.objects.filter(sku="other-store").update(sku="OTHER-STORE")

    response = add(buyer_client, product="shirt", variant=sku, quantity=1)

    assert response.status_code == 404
    assert response.json() == VARIANT_NOT_FOUND
    assert not CartItem.objects.exists()


def test_the_same_sku_in_another_store_is_not_this_products_variant(buyer_client, buyer, shirt):
    """Skus are unique per store only: another store's product may use the shirt's sku."""
    other = product_with_variants("lookalike", ("SHIRT-BLUE-L", {"Colour": "Blue", "Size": "L"}, "99.00", 50))

    response = add(buyer_client, product="shirt", variant="SHIRT-BLUE-L", quantity=1)

    assert response.status_code == 201
    assert response.json()["items"][0]["unit_price"] == "25.00"
    assert CartItem.objects.get().variant.product == shirt != other


@pytest.mark.parametrize("variant", [5, "", "x" * 65, ["SHIRT-RED-M"], {"sku": "SHIRT-RED-M"}, "a\x00b"])
def test_a_malformed_variant_is_400_naming_it(buyer_client, shirt, variant):
    response = add(buyer_client, product="shirt", variant=variant, quantity=1)

    assert response.status_code == 400
    assert list(response.json()) == ["variant"]
    assert not CartItem.objects.exists()


def test_a_simple_product_takes_its_one_variant_with_or_without_its_sku(buyer_client, buyer):
    ProductFactory(slug="mug", price=Decimal("5.00"))

    add(buyer_client, product="mug", quantity=1)
    response = add(buyer_client, product="mug", variant="mug", quantity=2)

    assert response.status_code == 201
    assert [(i["variant"], i["quantity"]) for i in response.json()["items"]] == [({"sku": "mug", "options": {}}, 3)]
    assert lines_of(buyer) == [("mug", "mug", 3)]


def test_the_product_is_checked_before_the_variant(buyer_client, shirt):
    response = add(buyer_client, product="no-such-product", variant="SHIRT-RED-M", quantity=1)

    assert response.status_code == 404
    assert response.json() == {"detail": "Product not found.", "code": "not_found"}


@pytest.mark.parametrize("body", [{}, {"variant": "SHIRT-RED-M"}, {"variant": "NO-SUCH-SKU"}])
def test_own_product_is_refused_whatever_the_variant(client_for, shirt, body):
    response = add(client_for(shirt.store.owner), product="shirt", quantity=1, **body)

    assert response.status_code == 400
    assert response.json()["code"] == "own_product"
    assert not CartItem.objects.exists()


def test_a_variant_of_a_product_not_for_sale_is_404(buyer_client, shirt):
    shirt.status = "draft"
    shirt.save(update_fields=["status"])

    response = add(buyer_client, product="shirt", variant="SHIRT-RED-M", quantity=1)

    assert response.status_code == 404
    assert response.json() == {"detail": "Product not found.", "code": "not_found"}
    assert not CartItem.objects.exists()


# --- Stock and limits per variant -----------------------------------------------------------------


def test_stock_is_the_variants_not_the_products(buyer_client, buyer, shirt):
    assert shirt.stock == 4  # Red M 3 + Blue L 1 (the inactive Red L does not count)

    response = add(buyer_client, product="shirt", variant="SHIRT-BLUE-L", quantity=2)

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Only 1 of Shirt (Blue, L) in stock.",
        "code": "insufficient_stock",
        "product": "shirt",
        "variant": "SHIRT-BLUE-L",
        "requested": 2,
        "available": 1,
    }
    assert not CartItem.objects.exists()


def test_merging_past_the_variants_stock_is_409_and_keeps_the_line(buyer_client, buyer, shirt):
    add(buyer_client, product="shirt", variant="SHIRT-RED-M", quantity=2)

    response = add(buyer_client, product="shirt", variant="SHIRT-RED-M", quantity=2)

    assert response.status_code == 409
    assert (response.json()["requested"], response.json()["available"]) == (4, 3)
    assert lines_of(buyer) == [("shirt", "SHIRT-RED-M", 2)]


def test_a_variants_line_holds_at_most_99(buyer_client, buyer):
    product_with_variants("bolt", ("BOLT-M", {"Colour": "Grey", "Size": "M"}, "0.10", 500))
    add(buyer_client, product="bolt", variant="BOLT-M", quantity=90)

    response = add(buyer_client, product="bolt", variant="BOLT-M", quantity=MAX_QUANTITY_PER_LINE - 89)

    assert response.status_code == 400
    assert list(response.json()) == ["quantity"]
    assert lines_of(buyer) == [("bolt", "BOLT-M", 90)]


def test_a_second_variant_is_a_new_line_and_counts_towards_the_100(buyer_client, buyer, shirt):
    cart_item_add(user=buyer, product_slug="shirt", variant_sku="SHIRT-RED-M", quantity=1)
    cart = Cart.objects.get(user=buyer)
    fillers = ProductFactory.create_batch(MAX_LINES - 1, store=StoreFactory(), category=CategoryFactory())
    CartItem.objects.bulk_create(
        CartItem(cart=cart, product=product, variant=product.variants.get(), quantity=1) for product in fillers
    )

    response = add(buyer_client, product="shirt", variant="SHIRT-BLUE-L", quantity=1)
    merged = add(buyer_client, product="shirt", variant="SHIRT-RED-M", quantity=1)

    assert response.status_code == 400
    assert list(response.json()) == ["product"]
    assert merged.status_code == 201
    assert CartItem.objects.filter(cart=cart).count() == MAX_LINES
    assert not CartItem.objects.filter(variant__sku="SHIRT-BLUE-L").exists()


# --- Changing a line ----------------------------------------------------------------------------------


@pytest.fixture
def red_line(buyer, shirt) -> CartItem:
    cart_item_add(user=buyer, product_slug="shirt", variant_sku="SHIRT-RED-M", quantity=1)
    return CartItem.objects.get(cart__user=buyer)


def test_patch_checks_the_variants_stock(buyer_client, buyer, red_line):
    ok = buyer_client.patch(f"{ITEMS}{red_line.pk}/", {"quantity": 3}, format="json")
    refused = buyer_client.patch(f"{ITEMS}{red_line.pk}/", {"quantity": 4}, format="json")

    assert ok.status_code == 200
    assert ok.json()["items"][0]["line_total"] == "60.00"
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": "Only 3 of Shirt (Red, M) in stock.",
        "code": "insufficient_stock",
        "product": "shirt",
        "variant": "SHIRT-RED-M",
        "requested": 4,
        "available": 3,
    }
    assert lines_of(buyer) == [("shirt", "SHIRT-RED-M", 3)]


def test_patch_of_a_line_whose_variant_was_deactivated_is_404(buyer_client, buyer, red_line):
    Variant.objects.filter(sku="SHIRT-RED-M").update(is_active=False)

    response = buyer_client.patch(f"{ITEMS}{red_line.pk}/", {"quantity": 2}, format="json")

    assert response.status_code == 404
    assert response.json() == {
        "detail": "This product is no longer for sale; remove it from the cart.",
        "code": "not_found",
    }
    assert lines_of(buyer) == [("shirt", "SHIRT-RED-M", 1)]


def test_the_cart_shows_the_variants_current_price(buyer_client, red_line):
    Variant.objects.filter(sku="SHIRT-RED-M").update(price=Decimal("18.00"))
    products_refresh(product_ids=[red_line.product_id])

    body = buyer_client.get(CART).json()

    assert (body["items"][0]["unit_price"], body["items"][0]["line_total"]) == ("18.00", "18.00")
    assert body["items"][0]["product"]["price"] == "18.00"
    assert body["subtotal"] == "18.00"


# --- Query budget -----------------------------------------------------------------------------------


def test_adding_a_variant_of_a_product_with_50_variants_stays_within_budget(
    buyer_client, buyer, django_assert_max_num_queries
):
    many = ProductFactory(slug="many", default_variant=False, options=[{"name": "Size", "values": []}])
    Variant.objects.bulk_create(
        Variant(product=many, store=many.store, sku=f"MANY-{n}", options={"Size": str(n)}, options_key=f"{n}", price=1)
        for n in range(50)
    )
    Variant.objects.filter(product=many).update(stock=5)
    products_refresh(product_ids=[many.pk])
    cart_item_add(user=buyer, product_slug="many", variant_sku="MANY-1", quantity=1)

    with django_assert_max_num_queries(8):
        response = add(buyer_client, product="many", variant="MANY-49", quantity=1)

    assert response.status_code == 201
    assert [i["variant"]["sku"] for i in response.json()["items"]] == ["MANY-1", "MANY-49"]


# --- Concurrency ------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_of_two_variants_land_on_one_line_each(buyer, shirt, client_for):
    """Adds racing under the cart's lock: each variant's line gets every one of its adds."""
    Variant.objects.filter(product=shirt).update(stock=50)
    jobs = [(client_for(buyer), sku) for sku in ["SHIRT-RED-M", "SHIRT-BLUE-L"] * 4]
    barrier = threading.Barrier(len(jobs))

    def run(job):
        client, sku = job
        try:
            barrier.wait()
            return add(client, product="shirt", variant=sku, quantity=1).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        codes = list(pool.map(run, jobs))

    assert codes == [201] * len(jobs)
    assert sorted(lines_of(buyer)) == [("shirt", "SHIRT-BLUE-L", 4), ("shirt", "SHIRT-RED-M", 4)]
