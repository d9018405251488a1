from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.catalog import services
from apps.catalog.models import Product, ProductImage
from apps.catalog.tests.conftest import image_bytes, upload
from apps.catalog.tests.factories import ProductFactory, variants_set

pytestmark = pytest.mark.django_db

LIST = "/api/v1/products/"
MINE = "/api/v1/seller/products/"
VALID = {
    "name": "Ball-peen Hammer",
    "description": "Rounded face for metalwork.",
    "price": "24.90",
    "category": "hammers",
    "stock": 7,
    "status": "active",
}


def detail(slug: str) -> str:
    return f"/api/v1/products/{slug}/"


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# --- Create -----------------------------------------------------------------------------------


def test_seller_creates_a_product_and_gets_the_detail(seller_client, store, tree):
    response = seller_client.post(LIST, VALID)

    assert response.status_code == 201
    product = Product.objects.get()
    assert response.json() == {
        "id": product.id,
        "slug": "ball-peen-hammer",
        "name": "Ball-peen Hammer",
        "price": "24.90",
        "currency": "USD",
        "store": {"slug": store.slug, "name": store.name},
        "category": {"slug": "hammers", "name": "Hammers"},
        "thumbnail_url": "http://testserver/static/catalog/placeholder.png",
        "in_stock": True,
        "rating_avg": None,
        "rating_count": 0,
        "description": "Rounded face for metalwork.",
        "stock": 7,
        "status": "active",
        "images": [],
        "options": [],
        "variants": [
            {
                "sku": "ball-peen-hammer",
                "options": {},
                "price": "24.90",
                "stock": 7,
                "in_stock": True,
                "image_id": None,
                "is_active": True,
            }
        ],
        "created_at": iso(product.created_at),
        "updated_at": iso(product.updated_at),
    }
    assert (product.store, product.price, product.stock) == (store, Decimal("24.90"), 7)
    assert list(product.variants.values_list("sku", "price", "stock")) == [("ball-peen-hammer", Decimal("24.90"), 7)]


def test_create_defaults_to_a_draft_with_no_stock(seller_client, tree):
    response = seller_client.post(LIST, {"name": "Mallet", "price": "5", "category": "hammers"})

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["stock"], response.json()["description"]) == ("draft", 0, "")


def test_read_only_fields_sent_on_create_are_ignored(seller_client, store, other_seller, tree):
    body = {
        **VALID,
        "slug": "chosen",
        "store": other_seller.store.slug,
        "currency": "EUR",
        "rating_avg": "5.00",
        "rating_count": 99,
        "id": 12345,
        "in_stock": False,
    }

    response = seller_client.post(LIST, body)

    assert response.status_code == 201
    product = Product.objects.get()
    assert (product.slug, product.store_id, product.currency) == ("ball-peen-hammer", store.id, "USD")
    assert (product.rating_avg, product.rating_count) == (None, 0)
    assert product.id != 12345


def test_currency_is_the_deployments(seller_client, tree, settings):
    settings.DEFAULT_CURRENCY = "EUR"

    response = seller_client.post(LIST, VALID)

    assert response.json()["currency"] == "EUR"


def test_slug_clash_gets_a_suffix(seller_client, tree):
    ProductFactory(name="Ball-peen Hammer", slug="ball-peen-hammer")

    response = seller_client.post(LIST, VALID)

    assert response.json()["slug"] == "ball-peen-hammer-2"


def test_create_retries_when_another_writer_takes_the_slug(store, tree, monkeypatch):
    ProductFactory(slug="raced")
    picks = iter(["raced", "raced-2"])
    monkeypatch.setattr(services, "unique_slug", lambda **kwargs: next(picks))

    product = services.product_create(store=store, name="Raced", price=Decimal("1.00"), category=tree["hammers"])

    assert product.slug == "raced-2"
    assert Product.objects.filter(slug__startswith="raced").count() == 2


def test_name_without_latin_letters_gets_a_fallback_slug(seller_client, tree):
    response = seller_client.post(LIST, {**VALID, "name": "锤子"})

    assert response.status_code == 201
    assert response.json()["slug"].startswith("product-")
    assert response.json()["name"] == "锤子"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price", "-1.00", "Ensure this value is greater than or equal to 0.01."),
        ("price", "0", "Ensure this value is greater than or equal to 0.01."),
        ("price", "0.00", "Ensure this value is greater than or equal to 0.01."),
        ("price", "1.005", "Ensure that there are no more than 2 decimal places."),
        ("price", "1000000.01", "Ensure this value is less than or equal to 1000000.00."),
        ("price", "1e20", "Ensure that there are no more than 12 digits in total."),
        ("price", "abc", "A valid number is required."),
        ("price", "NaN", "A valid number is required."),
        ("price", "", "A valid number is required."),
        ("price", None, "This field may not be null."),
        ("stock", -1, "Ensure this value is greater than or equal to 0."),
        ("stock", 1.5, "A valid integer is required."),
        ("stock", "many", "A valid integer is required."),
        ("stock", 10**12, "Ensure this value is less than or equal to 1000000000."),
        ("category", "nope", "Object with slug=nope does not exist."),
        ("category", None, "This field may not be null."),
        ("name", "", "This field may not be blank."),
        ("name", "   ", "This field may not be blank."),
        ("name", "x" * 201, "Ensure this field has no more than 200 characters."),
        ("description", "x" * 10001, "Ensure this field has no more than 10000 characters."),
        ("status", "archived", '"archived" is not a valid choice.'),
        ("status", "deleted", '"deleted" is not a valid choice.'),
    ],
)
def test_create_validates_every_field_and_creates_nothing(seller_client, tree, field, value, message):
    response = seller_client.post(LIST, {**VALID, field: value})

    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert not Product.objects.exists()


@pytest.mark.parametrize("field", ["name", "price", "category"])
def test_create_requires(seller_client, tree, field):
    body = {key: value for key, value in VALID.items() if key != field}

    response = seller_client.post(LIST, body)

    assert response.status_code == 400
    assert response.json() == {field: ["This field is required."]}
    assert not Product.objects.exists()


def test_the_largest_price_is_accepted(seller_client, tree):
    response = seller_client.post(LIST, {**VALID, "price": "1000000.00"})

    assert response.status_code == 201
    assert response.json()["price"] == "1000000.00"


def test_the_database_refuses_negative_stock_and_zero_price(product):
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(stock=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(price=Decimal("0.00"))
    product.refresh_from_db()
    assert (product.stock, product.price) == (10, Decimal("19.99"))


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("buyer", 403), ("owner", 201), ("other_seller", 201), ("staff", 403)]
)
def test_create_permissions(clients, tree, role, expected):
    response = clients[role].post(LIST, VALID)

    assert response.status_code == expected
    assert Product.objects.filter(name=VALID["name"]).count() == (1 if expected == 201 else 0)
    if role == "buyer":
        assert response.json() == {"detail": "Only sellers can do this; open a store first.", "code": "not_a_seller"}


# --- Read -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["anonymous", "buyer", "owner", "other_seller", "staff"])
def test_active_products_are_public(clients, product, role):
    response = clients[role].get(detail(product.slug))

    assert response.status_code == 200
    assert response.json()["slug"] == "claw-hammer"


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 404), ("buyer", 404), ("owner", 200), ("other_seller", 404), ("staff", 404)]
)
def test_drafts_are_visible_only_to_their_owner(clients, draft, role, expected):
    response = clients[role].get(detail(draft.slug))

    assert response.status_code == expected
    if expected == 404:
        assert response.json() == {"detail": "Product not found.", "code": "not_found"}
    else:
        assert response.json()["status"] == "draft"


def test_drafts_archived_and_closed_stores_stay_out_of_the_public_list(api_client, product, draft, store, tree):
    ProductFactory(store=store, category=tree["hammers"], status="archived")
    closed = ProductFactory(category=tree["hammers"])
    closed.store.is_active = False
    closed.store.save()

    response = api_client.get(LIST)

    assert [row["slug"] for row in response.json()["results"]] == ["claw-hammer"]
    assert api_client.get(detail(closed.slug)).status_code == 404


def test_detail_shows_rating_with_two_places(api_client, product):
    Product.objects.filter(pk=product.pk).update(rating_avg=Decimal("4.5"), rating_count=2)
    variants_set(product, stock=0)

    body = api_client.get(detail(product.slug)).json()

    assert (body["rating_avg"], body["rating_count"], body["in_stock"], body["stock"]) == ("4.50", 2, False, 0)


def test_detail_runs_constant_queries(api_client, store, tree, django_assert_num_queries):
    sizes = [f"S{number}" for number in range(50)]
    product = services.product_create(
        store=store,
        name="Sized Hammer",
        category=tree["hammers"],
        status="active",
        options=[{"name": "size", "values": sizes}],
        variants=[{"options": {"size": size}, "price": Decimal("3.00"), "stock": 1} for size in sizes],
    )
    for position in range(5):
        services.product_image_add(product=product, file=_png(), size=len(_PNG), position=position)

    with django_assert_num_queries(3):  # the product with store and category, its images, its variants
        response = api_client.get(detail(product.slug))

    assert (len(response.json()["images"]), len(response.json()["variants"])) == (5, 50)


_PNG = image_bytes()


def _png():
    return upload(_PNG)


# --- Update -----------------------------------------------------------------------------------


def test_owner_renames_and_the_slug_stays(seller_client, product, api_client):
    response = seller_client.patch(detail(product.slug), {"name": "Framing Hammer", "slug": "framing"})

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["slug"]) == ("Framing Hammer", "claw-hammer")
    assert api_client.get(detail("claw-hammer")).json()["name"] == "Framing Hammer"
    assert api_client.get(detail("framing")).status_code == 404


def test_patch_changes_only_what_is_sent_and_ignores_read_only_fields(seller_client, product, other_seller):
    response = seller_client.patch(
        detail(product.slug),
        {"price": "9.50", "store": other_seller.store.slug, "rating_avg": "1.00", "currency": "EUR", "id": 999},
    )

    assert response.status_code == 200
    product.refresh_from_db()
    assert (product.price, product.name, product.stock, product.store.owner) == (
        Decimal("9.50"),
        "Claw Hammer",
        10,
        product.store.owner,
    )
    assert (product.rating_avg, product.currency, product.id) == (None, "USD", response.json()["id"])
    assert product.store.owner != other_seller


def test_put_needs_every_field(seller_client, product):
    response = seller_client.put(detail(product.slug), {"name": "Only a name"})

    assert response.status_code == 400
    assert set(response.json()) == {"description", "price", "category", "stock", "status"}
    product.refresh_from_db()
    assert product.name == "Claw Hammer"


def test_put_replaces_every_field(seller_client, product, tree):
    body = {**VALID, "category": "power-tools", "status": "archived"}

    response = seller_client.put(detail(product.slug), body)

    assert response.status_code == 200
    product.refresh_from_db()
    assert (product.name, product.price, product.category.slug, product.stock, product.status) == (
        "Ball-peen Hammer",
        Decimal("24.90"),
        "power-tools",
        7,
        "archived",
    )
    assert product.slug == "claw-hammer"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"price": "0"}, {"price": ["Ensure this value is greater than or equal to 0.01."]}),
        ({"stock": -5}, {"stock": ["Ensure this value is greater than or equal to 0."]}),
        ({"category": "nope"}, {"category": ["Object with slug=nope does not exist."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
    ],
)
def test_patch_validates_and_changes_nothing(seller_client, product, body, errors):
    response = seller_client.patch(detail(product.slug), body)

    assert response.status_code == 400
    assert response.json() == errors
    product.refresh_from_db()
    assert (product.name, product.price, product.stock) == ("Claw Hammer", Decimal("19.99"), 10)


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("buyer", 403), ("owner", 200), ("other_seller", 403), ("staff", 200)]
)
def test_update_permissions_on_an_active_product(clients, product, method, role, expected):
    response = getattr(clients[role], method)(detail(product.slug), {**VALID, "name": "Changed"})

    assert response.status_code == expected
    product.refresh_from_db()
    assert product.name == ("Changed" if expected == 200 else "Claw Hammer")


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("buyer", 404), ("owner", 200), ("other_seller", 404), ("staff", 200)]
)
def test_update_permissions_on_a_draft_do_not_reveal_it(clients, draft, role, expected):
    response = clients[role].patch(detail(draft.slug), {"name": "Changed"})

    assert response.status_code == expected
    draft.refresh_from_db()
    assert draft.name == ("Changed" if expected == 200 else "Secret Hammer")


def test_another_seller_gets_a_403_naming_the_rule(clients, product):
    response = clients["other_seller"].patch(detail(product.slug), {"name": "Mine now"})

    assert response.json() == {"detail": "You can only change your own products.", "code": "not_owner"}


# --- Delete -----------------------------------------------------------------------------------


def test_owner_deletes_a_product_with_its_images_and_their_files(seller_client, product, on_commit):
    with on_commit(execute=True):
        image = services.product_image_add(product=product, file=_png(), size=len(_PNG))
    image.refresh_from_db()
    storage = image.image.storage
    names = [image.image.name, image.thumbnail.name]
    assert all(storage.exists(name) for name in names)

    with on_commit(execute=True):
        response = seller_client.delete(detail(product.slug))

    assert response.status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()
    assert not ProductImage.objects.exists()
    assert not any(storage.exists(name) for name in names)


def test_a_plain_product_is_not_referenced(product):
    assert services.product_is_referenced(product=product) is False


def test_a_referenced_product_is_archived_not_deleted(seller_client, product, monkeypatch, on_commit):
    with on_commit(execute=True):
        image = services.product_image_add(product=product, file=_png(), size=len(_PNG))
    monkeypatch.setattr(services, "product_is_referenced", lambda *, product: True)

    with on_commit(execute=True):
        response = seller_client.delete(detail(product.slug))

    assert response.status_code == 204
    product.refresh_from_db()
    assert product.status == "archived"
    assert ProductImage.objects.filter(pk=image.pk).exists()
    assert image.image.storage.exists(image.image.name)
    assert seller_client.get(LIST).json()["count"] == 0


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("buyer", 403), ("owner", 204), ("other_seller", 403), ("staff", 204)]
)
def test_delete_permissions_on_an_active_product(clients, product, role, expected):
    response = clients[role].delete(detail(product.slug))

    assert response.status_code == expected
    assert Product.objects.filter(pk=product.pk).exists() == (expected != 204)


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("buyer", 404), ("owner", 204), ("other_seller", 404), ("staff", 204)]
)
def test_delete_permissions_on_a_draft(clients, draft, role, expected):
    response = clients[role].delete(detail(draft.slug))

    assert response.status_code == expected
    assert Product.objects.filter(pk=draft.pk).exists() == (expected != 204)


def test_deleting_an_unknown_product_is_404(seller_client, db):
    assert seller_client.delete(detail("nope")).status_code == 404


# --- The seller's own list --------------------------------------------------------------------


def test_seller_list_has_every_status_of_their_own_only(seller_client, product, draft, store, tree):
    archived = ProductFactory(store=store, category=tree["kitchen"], status="archived", slug="old", name="Old")
    ProductFactory(category=tree["hammers"], slug="someone-elses")

    response = seller_client.get(MINE)

    assert response.status_code == 200
    assert response.json()["count"] == 3
    rows = {row["slug"]: row for row in response.json()["results"]}
    assert set(rows) == {"claw-hammer", "secret-hammer", "old"}
    assert (rows["old"]["status"], rows["old"]["stock"], rows["old"]["id"]) == ("archived", 10, archived.id)


def test_seller_list_filters_by_status(seller_client, product, draft):
    response = seller_client.get(MINE, {"status": "draft"})

    assert [row["slug"] for row in response.json()["results"]] == ["secret-hammer"]
    assert seller_client.get(MINE, {"status": "gone"}).status_code == 400


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("buyer", 403), ("owner", 200), ("other_seller", 200), ("staff", 403)]
)
def test_seller_list_permissions(clients, product, role, expected):
    response = clients[role].get(MINE)

    assert response.status_code == expected
    if expected == 200:
        assert response.json()["count"] == (1 if role == "owner" else 0)


def test_the_fast_detail_rendering_equals_the_generic_rendering_of_the_declared_fields(product, on_commit):
    from rest_framework.test import APIRequestFactory

    from apps.catalog.selectors import product_get_public
    from apps.catalog.serializers import ProductDetailOutputSerializer

    with on_commit(execute=True):
        services.product_image_add(product=product, file=_png(), size=len(_PNG), alt_text="Front")
    services.product_image_add(product=product, file=_png(), size=len(_PNG), position=7)  # no thumbnail yet
    Product.objects.filter(pk=product.pk).update(rating_avg=Decimal("4.5"), rating_count=2)
    serializer = ProductDetailOutputSerializer(context={"request": APIRequestFactory().get("/")})
    loaded = product_get_public(slug=product.slug)

    rendered = serializer.to_representation(loaded)

    assert rendered == serializer.declared_representation(loaded)
    assert [image["position"] for image in rendered["images"]] == [0, 7]
