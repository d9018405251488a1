"""The cart through its API: /api/v1/cart/, /api/v1/cart/items/ and /api/v1/cart/items/{id}/."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from apps.accounts.tests.factories import StoreFactory, UserFactory
from apps.cart.models import MAX_LINES, MAX_QUANTITY_PER_LINE, Cart, CartItem
from apps.cart.services import cart_item_add
from apps.catalog.models import Product, ProductImage, Variant
from apps.catalog.stock import products_refresh
from apps.catalog.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart/"
ITEMS = "/api/v1/cart/items/"
PLACEHOLDER = "http://testserver/static/catalog/placeholder.png"

# Pinned by measuring; the budget must not grow with the number of lines.
CART_GET_QUERIES = 4  # user, lines with product, store and variant, images (measured: 3)
# user, SAVEPOINT, the cart's lock, the product with its variant and line, one write, RELEASE;
# then the answer's lines and images (measured: 8)
CART_ADD_QUERIES = 8
CART_FIRST_ADD_QUERIES = 12  # plus the cart's miss, get_or_create's SELECT and INSERT in its SAVEPOINT/RELEASE


def item_url(item_id: int) -> str:
    return f"{ITEMS}{item_id}/"


def lines_of(user) -> list[tuple[str, int]]:
    """The user's cart as (product slug, quantity) pairs, read from the database."""
    return list(CartItem.objects.filter(cart__user=user).order_by("id").values_list("product__slug", "quantity"))


@pytest.fixture
def product():
    return ProductFactory(name="Teapot", slug="teapot", price=Decimal("19.99"), stock=10, store__name="Tea House")


@pytest.fixture
def other_client(client_for):
    """A second buyer, with a client of their own."""
    other = UserFactory()
    return other, client_for(other)


# --- Adding -----------------------------------------------------------------------------------


def test_add_answers_201_with_the_whole_cart(buyer_client, buyer, product):
    response = buyer_client.post(ITEMS, {"product": "teapot", "quantity": 2}, format="json")

    assert response.status_code == 201
    item = CartItem.objects.get()
    assert response.json() == {
        "items": [
            {
                "id": item.pk,
                "product": {
                    "slug": "teapot",
                    "name": "Teapot",
                    "price": "19.99",
                    "thumbnail_url": PLACEHOLDER,
                    "store": {"slug": product.store.slug, "name": "Tea House"},
                },
                "variant": {"sku": "teapot", "options": {}},
                "quantity": 2,
                "unit_price": "19.99",
                "line_total": "39.98",
            }
        ],
        "subtotal": "39.98",
        "currency": "USD",
        "item_count": 2,
    }
    assert item.cart.user == buyer


def test_add_without_quantity_adds_one(buyer_client, buyer, product):
    response = buyer_client.post(ITEMS, {"product": "teapot"}, format="json")

    assert response.status_code == 201
    assert response.json()["item_count"] == 1
    assert lines_of(buyer) == [("teapot", 1)]


def test_the_thumbnail_is_the_first_images_thumbnail(buyer_client, product):
    ProductImage.objects.create(
        product=product, image="products/b.jpg", thumbnail="products/b.webp", width=1, height=1, position=1
    )
    ProductImage.objects.create(
        product=product, image="products/a.jpg", thumbnail="products/a.webp", width=1, height=1, position=0
    )

    response = buyer_client.post(ITEMS, {"product": "teapot", "quantity": 1}, format="json")

    assert response.json()["items"][0]["product"]["thumbnail_url"] == "http://testserver/media/products/a.webp"


def test_adding_the_same_product_again_adds_to_its_line(buyer_client, buyer, product):
    first = buyer_client.post(ITEMS, {"product": "teapot", "quantity": 2}, format="json").json()

    response = buyer_client.post(ITEMS, {"product": "teapot", "quantity": 3}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert [(i["id"], i["quantity"], i["line_total"]) for i in body["items"]] == [(first["items"][0]["id"], 5, "99.95")]
    assert body["item_count"] == 5
    assert lines_of(buyer) == [("teapot", 5)]


def test_item_count_is_the_sum_of_quantities_and_lines_keep_their_order(buyer_client, product):
    ProductFactory(slug="mug", price=Decimal("5.00"))
    buyer_client.post(ITEMS, {"product": "teapot", "quantity": 2}, format="json")

    body = buyer_client.post(ITEMS, {"product": "mug", "quantity": 3}, format="json").json()

    assert [(i["product"]["slug"], i["quantity"], i["line_total"]) for i in body["items"]] == [
        ("teapot", 2, "39.98"),
        ("mug", 3, "15.00"),
    ]
    assert body["item_count"] == 5
    assert body["subtotal"] == "54.98"


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY_PER_LINE + 1, "abc", None, 1.5, True, [1]])
def test_add_refuses_a_quantity_outside_1_to_99_and_changes_nothing(buyer_client, buyer, product, quantity):
    cart_item_add(user=buyer, product_slug="teapot", quantity=1)

    response = buyer_client.post(ITEMS, {"product": "teapot", "quantity": quantity}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["quantity"]
    assert lines_of(buyer) == [("teapot", 1)]


def test_add_of_99_at_once_is_allowed(buyer_client, buyer):
    ProductFactory(slug="bolt", stock=500)

    response = buyer_client.post(ITEMS, {"product": "bolt", "quantity": MAX_QUANTITY_PER_LINE}, format="json")

    assert response.status_code == 201
    assert lines_of(buyer) == [("bolt", 99)]


def test_merging_past_99_on_a_line_is_refused_and_changes_nothing(buyer_client, buyer):
    ProductFactory(slug="bolt", stock=500)
    cart_item_add(user=buyer, product_slug="bolt", quantity=90)

    response = buyer_client.post(ITEMS, {"product": "bolt", "quantity": 10}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["quantity"]
    assert lines_of(buyer) == [("bolt", 90)]


def test_the_101st_distinct_product_is_refused(buyer_client, buyer):
    store, category = StoreFactory(), CategoryFactory()
    products = ProductFactory.create_batch(MAX_LINES + 1, store=store, category=category)
    for product in products[:MAX_LINES]:
        cart_item_add(user=buyer, product_slug=product.slug, quantity=1)

    response = buyer_client.post(ITEMS, {"product": products[-1].slug, "quantity": 1}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["product"]
    assert CartItem.objects.filter(cart__user=buyer).count() == MAX_LINES
    assert not CartItem.objects.filter(product=products[-1]).exists()


def test_a_full_cart_still_takes_more_of_a_product_it_holds(buyer_client, buyer):
    store, category = StoreFactory(), CategoryFactory()
    products = ProductFactory.create_batch(MAX_LINES, store=store, category=category)
    for product in products:
        cart_item_add(user=buyer, product_slug=product.slug, quantity=1)

    response = buyer_client.post(ITEMS, {"product": products[0].slug, "quantity": 1}, format="json")

    assert response.status_code == 201
    assert response.json()["item_count"] == MAX_LINES + 1


def test_add_of_an_unknown_product_is_404(buyer_client, buyer):
    response = buyer_client.post(ITEMS, {"product": "no-such-thing", "quantity": 1}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Product not found.", "code": "not_found"}
    assert not CartItem.objects.exists()


@pytest.mark.parametrize(
    "hidden",
    [
        {"status": Product.Status.DRAFT},
        {"status": Product.Status.ARCHIVED},
        {"store__is_active": False},
    ],
    ids=["draft", "archived", "inactive-store"],
)
def test_add_of_a_product_not_for_sale_is_404(buyer_client, buyer, hidden):
    ProductFactory(slug="hidden", **hidden)

    response = buyer_client.post(ITEMS, {"product": "hidden", "quantity": 1}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not CartItem.objects.exists()


def test_a_seller_cannot_add_their_own_product(seller_client, seller):
    ProductFactory(slug="mine", store=seller.store)

    response = seller_client.post(ITEMS, {"product": "mine", "quantity": 1}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": "You cannot buy your own product.", "code": "own_product"}
    assert not CartItem.objects.exists()


def test_a_seller_can_add_another_stores_product(seller_client, seller, product):
    response = seller_client.post(ITEMS, {"product": "teapot", "quantity": 1}, format="json")

    assert response.status_code == 201
    assert lines_of(seller) == [("teapot", 1)]


def test_add_of_more_than_in_stock_is_409_with_available(buyer_client, buyer, product):
    response = buyer_client.post(ITEMS, {"product": "teapot", "quantity": 11}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Only 10 of Teapot in stock.",
        "code": "insufficient_stock",
        "product": "teapot",
        "variant": "teapot",
        "requested": 11,
        "available": 10,
    }
    assert not CartItem.objects.exists()
    product.refresh_from_db()
    assert product.stock == 10


def test_merging_past_the_stock_is_409_and_keeps_the_line(buyer_client, buyer, product):
    cart_item_add(user=buyer, product_slug="teapot", quantity=6)

    response = buyer_client.post(ITEMS, {"product": "teapot", "quantity": 5}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert response.json()["requested"] == 11
    assert response.json()["available"] == 10
    assert lines_of(buyer) == [("teapot", 6)]


def test_adding_to_the_cart_does_not_take_stock(buyer_client, product):
    buyer_client.post(ITEMS, {"product": "teapot", "quantity": 10}, format="json")

    product.refresh_from_db()
    assert product.stock == 10


# --- Changing and removing a line -------------------------------------------------------------


@pytest.fixture
def line(buyer, product) -> CartItem:
    cart_item_add(user=buyer, product_slug="teapot", quantity=2)
    return CartItem.objects.get(cart__user=buyer)


def test_patch_sets_the_quantity_and_answers_the_cart(buyer_client, buyer, line):
    response = buyer_client.patch(item_url(line.pk), {"quantity": 7}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert [(i["id"], i["quantity"], i["line_total"]) for i in body["items"]] == [(line.pk, 7, "139.93")]
    assert body["subtotal"] == "139.93"
    assert body["item_count"] == 7
    assert lines_of(buyer) == [("teapot", 7)]


def test_patch_can_lower_the_quantity(buyer_client, buyer, line):
    response = buyer_client.patch(item_url(line.pk), {"quantity": 1}, format="json")

    assert response.status_code == 200
    assert lines_of(buyer) == [("teapot", 1)]


def test_patch_above_the_stock_is_409_and_changes_nothing(buyer_client, buyer, line):
    response = buyer_client.patch(item_url(line.pk), {"quantity": 11}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert response.json()["available"] == 10
    assert lines_of(buyer) == [("teapot", 2)]


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY_PER_LINE + 1, "abc"])
def test_patch_outside_1_to_99_is_400_and_changes_nothing(buyer_client, buyer, line, quantity):
    response = buyer_client.patch(item_url(line.pk), {"quantity": quantity}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["quantity"]
    assert lines_of(buyer) == [("teapot", 2)]


def test_patch_of_an_unknown_item_is_404(buyer_client, buyer, line):
    response = buyer_client.patch(item_url(line.pk + 1000), {"quantity": 1}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert lines_of(buyer) == [("teapot", 2)]


def test_delete_of_a_line_answers_the_rest_of_the_cart(buyer_client, buyer, line):
    ProductFactory(slug="mug", price=Decimal("5.00"))
    cart_item_add(user=buyer, product_slug="mug", quantity=1)

    response = buyer_client.delete(item_url(line.pk))

    assert response.status_code == 200
    body = response.json()
    assert [(i["product"]["slug"], i["quantity"]) for i in body["items"]] == [("mug", 1)]
    assert body["subtotal"] == "5.00"
    assert body["item_count"] == 1
    assert lines_of(buyer) == [("mug", 1)]


def test_delete_of_the_last_line_answers_an_empty_cart(buyer_client, buyer, line):
    response = buyer_client.delete(item_url(line.pk))

    assert response.status_code == 200
    assert response.json() == {"items": [], "subtotal": "0.00", "currency": "USD", "item_count": 0}


def test_delete_of_an_item_already_deleted_is_404(buyer_client, buyer, line):
    buyer_client.delete(item_url(line.pk))

    response = buyer_client.delete(item_url(line.pk))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_another_users_item_cannot_be_changed(other_client, buyer, line):
    _, client = other_client

    response = client.patch(item_url(line.pk), {"quantity": 1}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Cart item not found.", "code": "not_found"}
    assert lines_of(buyer) == [("teapot", 2)]


def test_another_users_item_cannot_be_deleted(other_client, buyer, line):
    other, client = other_client
    ProductFactory(slug="mug")
    cart_item_add(user=other, product_slug="mug", quantity=1)

    response = client.delete(item_url(line.pk))

    assert response.status_code == 404
    assert response.json() == {"detail": "Cart item not found.", "code": "not_found"}
    assert lines_of(buyer) == [("teapot", 2)]
    assert lines_of(other) == [("mug", 1)]


# --- Reading and clearing the cart -------------------------------------------------------------


def test_a_new_user_has_an_empty_cart(buyer_client):
    response = buyer_client.get(CART)

    assert response.status_code == 200
    assert response.json() == {"items": [], "subtotal": "0.00", "currency": "USD", "item_count": 0}


def test_get_shows_only_my_cart(buyer_client, other_client, line):
    _, client = other_client

    assert client.get(CART).json()["items"] == []
    assert [i["id"] for i in buyer_client.get(CART).json()["items"]] == [line.pk]


def test_prices_shown_are_current_prices(buyer_client, line, product):
    Variant.objects.filter(product=product).update(price=Decimal("25.00"))
    products_refresh(product_ids=[product.pk])

    body = buyer_client.get(CART).json()

    assert body["items"][0]["product"]["price"] == "25.00"
    assert body["items"][0]["unit_price"] == "25.00"
    assert body["items"][0]["line_total"] == "50.00"
    assert body["subtotal"] == "50.00"


def test_totals_are_exact_decimals(buyer_client, buyer):
    ProductFactory(slug="dime", price=Decimal("0.10"))
    ProductFactory(slug="teapot", price=Decimal("19.99"))
    cart_item_add(user=buyer, product_slug="dime", quantity=3)
    cart_item_add(user=buyer, product_slug="teapot", quantity=2)

    body = buyer_client.get(CART).json()

    assert [(i["unit_price"], i["line_total"]) for i in body["items"]] == [("0.10", "0.30"), ("19.99", "39.98")]
    assert body["subtotal"] == "40.28"
    assert body["item_count"] == 5


def test_big_totals_keep_every_cent(buyer_client, buyer):
    ProductFactory(slug="car", price=Decimal("999999.99"), stock=1000)
    cart_item_add(user=buyer, product_slug="car", quantity=99)

    body = buyer_client.get(CART).json()

    assert body["items"][0]["line_total"] == "98999999.01"
    assert body["subtotal"] == "98999999.01"


def test_delete_cart_empties_it(buyer_client, buyer, line):
    ProductFactory(slug="mug")
    cart_item_add(user=buyer, product_slug="mug", quantity=1)

    response = buyer_client.delete(CART)

    assert response.status_code == 204
    assert response.content == b""
    assert lines_of(buyer) == []
    assert buyer_client.get(CART).json()["items"] == []


def test_delete_cart_leaves_other_carts_and_products_alone(buyer_client, other_client, line, product):
    other, _ = other_client
    cart_item_add(user=other, product_slug="teapot", quantity=3)

    buyer_client.delete(CART)

    assert lines_of(other) == [("teapot", 3)]
    assert Product.objects.filter(pk=product.pk, stock=10).exists()
    assert Cart.objects.filter(user__in=[line.cart.user, other]).count() == 2


def test_delete_of_an_empty_cart_is_204(buyer_client):
    assert buyer_client.delete(CART).status_code == 204


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", CART, None),
        ("delete", CART, None),
        ("post", ITEMS, {"product": "teapot", "quantity": 1}),
        ("patch", f"{ITEMS}1/", {"quantity": 1}),
        ("delete", f"{ITEMS}1/", None),
    ],
)
def test_anonymous_requests_are_401(api_client, product, method, path, body):
    response = getattr(api_client, method)(path, body, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert not Cart.objects.exists()


# --- Query budgets ----------------------------------------------------------------------------


def _fill_with_images(user, count: int) -> None:
    store, category = StoreFactory(), CategoryFactory()
    for product in ProductFactory.create_batch(count, store=store, category=category):
        ProductImage.objects.create(
            product=product,
            image=f"products/{product.pk}.jpg",
            thumbnail=f"products/{product.pk}.webp",
            width=1,
            height=1,
        )
        cart_item_add(user=user, product_slug=product.slug, quantity=1)


@pytest.mark.parametrize("lines", [1, 30])
def test_get_cart_has_a_fixed_query_budget(buyer_client, buyer, django_assert_max_num_queries, lines):
    _fill_with_images(buyer, lines)

    with django_assert_max_num_queries(CART_GET_QUERIES):
        response = buyer_client.get(CART)

    assert len(response.json()["items"]) == lines


def test_add_has_a_fixed_query_budget(buyer_client, buyer, django_assert_max_num_queries):
    _fill_with_images(buyer, 5)
    ProductFactory(slug="one-more")

    with django_assert_max_num_queries(CART_ADD_QUERIES):
        response = buyer_client.post(ITEMS, {"product": "one-more", "quantity": 1}, format="json")

    assert response.status_code == 201


def test_the_add_compiles_its_product_statement_once_per_kind_of_choice(buyer, monkeypatch):
    """Adds of other products, skus and carts run the statements compiled by the first add by sku
    and the first add without one, each bound to its own values (issue 14)."""
    from apps.cart import services
    from apps.catalog.compiled import Compiled

    compiled = []
    compile_once = Compiled.of.__func__
    monkeypatch.setattr(services, "_PRODUCT_WITH_LINE", {})
    monkeypatch.setattr(
        Compiled, "of", classmethod(lambda cls, *a, **k: compiled.append(1) or compile_once(cls, *a, **k))
    )
    teapot, kettle = ProductFactory(slug="teapot", stock=5), ProductFactory(slug="kettle", stock=5)
    other = UserFactory()

    cart_item_add(user=buyer, product_slug="teapot", quantity=1)
    cart_item_add(user=buyer, product_slug="kettle", quantity=2)
    cart_item_add(user=other, product_slug="kettle", variant_sku=kettle.variants.get().sku, quantity=3)
    cart_item_add(user=buyer, product_slug="teapot", variant_sku=teapot.variants.get().sku, quantity=4)

    assert len(compiled) == 2
    assert lines_of(buyer) == [("teapot", 5), ("kettle", 2)]
    assert lines_of(other) == [("kettle", 3)]


def test_the_first_add_makes_the_cart_within_budget(buyer_client, buyer, django_assert_max_num_queries):
    ProductFactory(slug="first")

    with django_assert_max_num_queries(CART_FIRST_ADD_QUERIES):
        response = buyer_client.post(ITEMS, {"product": "first", "quantity": 1}, format="json")

    assert response.status_code == 201
    assert Cart.objects.filter(user=buyer).count() == 1


# --- Concurrency --------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_by_one_user_all_land_on_one_line(buyer, product, client_for):
    """The first adds of a user with no cart yet race to make the cart and the line."""
    clients = [client_for(buyer) for _ in range(8)]
    barrier = threading.Barrier(len(clients))

    def add(client):
        try:
            barrier.wait()
            return client.post(ITEMS, {"product": "teapot", "quantity": 1}, format="json").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        codes = list(pool.map(add, clients))

    assert codes == [201] * 8
    assert Cart.objects.filter(user=buyer).count() == 1
    assert lines_of(buyer) == [("teapot", 8)]


@pytest.mark.parametrize("change", ["archive", "draft", "close_store"])
def test_changing_the_quantity_of_a_product_no_longer_for_sale_is_404(change, client_for):
    buyer = UserFactory()
    product = ProductFactory(stock=5)
    cart_item_add(user=buyer, product_slug=product.slug, quantity=1)
    if change == "close_store":
        product.store.is_active = False
        product.store.save()
    else:
        product.status = Product.Status.ARCHIVED if change == "archive" else Product.Status.DRAFT
        product.save()
    item = CartItem.objects.get(cart__user=buyer)

    response = client_for(buyer).patch(f"/api/v1/cart/items/{item.pk}/", {"quantity": 2})

    assert response.status_code == 404
    assert CartItem.objects.get(pk=item.pk).quantity == 1
