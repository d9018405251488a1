"""Cached catalog reads on a real Redis and the writes that retire them (apps/catalog/cache.py).

The tests commit for real (transactional database), so that versions are bumped by
``transaction.on_commit`` exactly as in production.
"""

from decimal import Decimal

import pytest
from django.conf import settings
from django.test import override_settings
from django_redis.cache import RedisCache

from apps.accounts.tests.factories import UserFactory
from apps.catalog import services
from apps.catalog.cache import CATALOG_VERSION, list_query_key
from apps.catalog.models import Product, Variant
from apps.catalog.tests.conftest import image_bytes, upload
from apps.catalog.tests.factories import ProductFactory
from apps.orders.models import LineStatus, OrderLine
from apps.orders.tests.factories import ADDRESS, fill_cart

pytestmark = pytest.mark.django_db(transaction=True)

LIST = "/api/v1/products/"
CATEGORIES = "/api/v1/categories/"


def detail(slug: str) -> str:
    return f"/api/v1/products/{slug}/"


def listed(client, **params) -> dict:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return {row["slug"]: row for row in response.json()["results"]}


def checkout(client_for, buyer, *pairs) -> dict:
    fill_cart(buyer, *pairs)
    response = client_for(buyer).post("/api/v1/checkout/", {"shipping_address": ADDRESS})
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def anonymous(api_client):
    return api_client


# --- Hits -------------------------------------------------------------------------------------


def test_a_second_identical_list_request_runs_no_query(live_redis, anonymous, product, django_assert_num_queries):
    first = anonymous.get(LIST, {"page_size": 5, "ordering": "price"})

    with django_assert_num_queries(0):
        second = anonymous.get(LIST, {"ordering": "price", "page_size": 5})  # same query, other order

    assert second.json() == first.json()
    assert second.json()["results"][0]["slug"] == "claw-hammer"


def test_another_query_is_another_entry(live_redis, anonymous, product, django_assert_num_queries):
    anonymous.get(LIST)

    with django_assert_num_queries(2):  # count and page
        response = anonymous.get(LIST, {"ordering": "name"})

    assert [row["slug"] for row in response.json()["results"]] == ["claw-hammer"]


def test_a_second_detail_request_runs_no_query(live_redis, anonymous, product, django_assert_num_queries):
    first = anonymous.get(detail(product.slug))

    with django_assert_num_queries(0):
        second = anonymous.get(detail(product.slug))

    assert second.json() == first.json()


def test_categories_are_cached(live_redis, anonymous, tree, django_assert_num_queries):
    tree_first, hand_first = anonymous.get(CATEGORIES).json(), anonymous.get(f"{CATEGORIES}hand-tools/").json()

    with django_assert_num_queries(0):
        tree_again, hand_again = anonymous.get(CATEGORIES).json(), anonymous.get(f"{CATEGORIES}hand-tools/").json()

    assert (tree_again, hand_again) == (tree_first, hand_first)


def test_unknown_parameters_do_not_split_the_cache_and_values_cannot_pose_as_parameters():
    assert list_query_key({"utm": "x", "search": "a&page=2"}) == "search=a%26page%3D2"
    assert list_query_key({"page": "2", "search": "a"}) == "page=2&search=a"


def test_errors_are_not_cached(live_redis, anonymous, product):
    assert anonymous.get(LIST, {"min_price": "cheap"}).status_code == 400
    assert anonymous.get(detail("no-such-thing")).status_code == 404

    ProductFactory(store=product.store, category=product.category, slug="no-such-thing")

    assert anonymous.get(detail("no-such-thing")).status_code == 200


# --- Writes retire what they change -------------------------------------------------------------


def test_a_price_change_shows_at_once_in_list_and_detail(live_redis, anonymous, clients, product):
    listed(anonymous)
    anonymous.get(detail(product.slug))

    response = clients["owner"].patch(detail(product.slug), {"price": "12.34"})

    assert response.status_code == 200
    assert listed(anonymous)["claw-hammer"]["price"] == "12.34"
    assert anonymous.get(detail(product.slug)).json()["price"] == "12.34"


def test_a_deleted_product_leaves_the_list_and_its_detail_is_404(live_redis, anonymous, clients, product):
    assert "claw-hammer" in listed(anonymous)
    anonymous.get(detail(product.slug))

    assert clients["owner"].delete(detail(product.slug)).status_code == 204

    assert "claw-hammer" not in listed(anonymous)
    assert anonymous.get(detail(product.slug)).status_code == 404


def test_an_archived_product_leaves_the_list_and_its_detail_is_404(live_redis, anonymous, clients, product):
    listed(anonymous)
    anonymous.get(detail(product.slug))

    assert clients["owner"].patch(detail(product.slug), {"status": "archived"}).status_code == 200

    assert "claw-hammer" not in listed(anonymous)
    assert anonymous.get(detail(product.slug)).status_code == 404


def test_a_product_referenced_by_an_order_is_archived_on_delete_and_leaves_the_list(
    live_redis, anonymous, clients, product, client_for
):
    checkout(client_for, UserFactory(), (product, 1))
    listed(anonymous)

    assert clients["owner"].delete(detail(product.slug)).status_code == 204

    assert Product.objects.get(pk=product.pk).status == Product.Status.ARCHIVED
    assert "claw-hammer" not in listed(anonymous)
    assert anonymous.get(detail(product.slug)).status_code == 404


def test_a_category_write_updates_the_tree(live_redis, anonymous, staff_client, tree):
    anonymous.get(CATEGORIES)
    anonymous.get(f"{CATEGORIES}tools/")

    assert staff_client.post(CATEGORIES, {"name": "Saws", "parent": "tools"}).status_code == 201
    assert staff_client.patch(f"{CATEGORIES}kitchen/", {"name": "Cookware"}).status_code == 200

    names = {category["slug"]: category["name"] for category in anonymous.get(CATEGORIES).json()}
    children = [child["name"] for child in anonymous.get(f"{CATEGORIES}tools/").json()["children"]]
    assert names["kitchen"] == "Cookware"
    assert "Saws" in children


def test_a_category_rename_shows_in_the_product_list(live_redis, anonymous, staff_client, product):
    listed(anonymous)

    staff_client.patch(f"{CATEGORIES}hammers/", {"name": "Mallets"})

    assert listed(anonymous)["claw-hammer"]["category"] == {"slug": "hammers", "name": "Mallets"}


def test_a_store_rename_shows_in_list_and_detail(live_redis, anonymous, seller_client, product):
    listed(anonymous)
    anonymous.get(detail(product.slug))

    assert seller_client.patch("/api/v1/users/me/store/", {"name": "Renamed Tools"}).status_code == 200

    assert listed(anonymous)["claw-hammer"]["store"]["name"] == "Renamed Tools"
    assert anonymous.get(detail(product.slug)).json()["store"]["name"] == "Renamed Tools"


def test_a_deactivated_store_leaves_the_catalog(live_redis, anonymous, seller_client, product):
    listed(anonymous)

    assert seller_client.delete("/api/v1/users/me/").status_code == 204

    assert "claw-hammer" not in listed(anonymous)
    assert anonymous.get(detail(product.slug)).status_code == 404


def test_a_store_closed_in_the_admin_leaves_the_catalog(live_redis, anonymous, client, product):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    store = product.store
    listed(anonymous)
    anonymous.get(detail(product.slug))

    response = client.post(
        f"/admin/accounts/store/{store.pk}/change/",
        {"name": "Closed Tools", "description": store.description, "owner": store.owner_id},  # is_active unticked
    )

    assert response.status_code == 302
    assert "claw-hammer" not in listed(anonymous)
    assert anonymous.get(detail(product.slug)).status_code == 404
    assert anonymous.get(CATEGORIES).status_code == 200


def test_a_new_active_product_appears_in_the_list(live_redis, anonymous, seller_client, tree, product):
    listed(anonymous)

    response = seller_client.post(
        LIST, {"name": "Mallet", "price": "5.00", "category": "hammers", "stock": 1, "status": "active"}
    )

    assert response.status_code == 201
    assert response.json()["slug"] in listed(anonymous)


def test_an_image_and_its_thumbnail_show_in_list_and_detail(live_redis, anonymous, seller_client, product):
    placeholder = listed(anonymous)["claw-hammer"]["thumbnail_url"]
    anonymous.get(detail(product.slug))

    response = seller_client.post(
        f"{detail(product.slug)}images/", {"image": upload(image_bytes())}, format="multipart"
    )

    assert response.status_code == 201
    thumbnail = listed(anonymous)["claw-hammer"]["thumbnail_url"]
    assert thumbnail != placeholder
    assert thumbnail.endswith(".webp")
    images = anonymous.get(detail(product.slug)).json()["images"]
    assert [image["id"] for image in images] == [response.json()["id"]]

    assert seller_client.delete(f"{detail(product.slug)}images/{images[0]['id']}/").status_code == 204

    assert listed(anonymous)["claw-hammer"]["thumbnail_url"] == placeholder
    assert anonymous.get(detail(product.slug)).json()["images"] == []


def test_a_thumbnail_made_later_shows_in_the_list(live_redis, anonymous, seller_client, product, monkeypatch):
    deferred = []
    monkeypatch.setattr(services, "image_make_thumbnail", lambda *, image_id: deferred.append(image_id))
    seller_client.post(f"{detail(product.slug)}images/", {"image": upload(image_bytes())}, format="multipart")
    placeholder = listed(anonymous)["claw-hammer"]["thumbnail_url"]  # cached while the thumbnail is made

    monkeypatch.undo()
    services.image_make_thumbnail(image_id=deferred[0])

    assert listed(anonymous)["claw-hammer"]["thumbnail_url"] != placeholder


def test_a_review_updates_the_rating_in_list_and_detail(live_redis, anonymous, product, client_for):
    buyer = UserFactory()
    order = checkout(client_for, buyer, (product, 1))
    OrderLine.objects.filter(order__number=order["number"]).update(status=LineStatus.DELIVERED)
    assert listed(anonymous)["claw-hammer"]["rating_count"] == 0

    response = client_for(buyer).post(f"{detail(product.slug)}reviews/", {"rating": 4})

    assert response.status_code == 201
    assert listed(anonymous)["claw-hammer"]["rating_avg"] == "4.00"
    assert anonymous.get(detail(product.slug)).json()["rating_count"] == 1


def test_a_product_deleted_in_the_admin_leaves_the_list(live_redis, anonymous, client, product):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listed(anonymous)

    response = client.post(f"/admin/catalog/product/{product.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert "claw-hammer" not in listed(anonymous)


# --- Stock ------------------------------------------------------------------------------------


def test_a_checkout_taking_the_last_unit_turns_in_stock_false_at_once(live_redis, anonymous, store, tree, client_for):
    last = ProductFactory(store=store, category=tree["hammers"], slug="last-one", stock=2)
    assert listed(anonymous)["last-one"]["in_stock"] is True
    assert anonymous.get(detail("last-one")).json()["stock"] == 2

    checkout(client_for, UserFactory(), (last, 2))

    assert listed(anonymous)["last-one"]["in_stock"] is False
    assert "last-one" not in listed(anonymous, in_stock="true")
    assert anonymous.get(detail("last-one")).json()["stock"] == 0


def test_a_checkout_that_leaves_stock_keeps_the_lists_and_updates_the_detail(
    live_redis, anonymous, store, tree, django_assert_num_queries, client_for
):
    plenty = ProductFactory(store=store, category=tree["hammers"], slug="plenty", stock=5)
    listed(anonymous)
    anonymous.get(detail("plenty"))

    checkout(client_for, UserFactory(), (plenty, 2))

    with django_assert_num_queries(0):  # the list entry stays: in_stock did not change
        assert listed(anonymous)["plenty"]["in_stock"] is True
    assert anonymous.get(detail("plenty")).json()["stock"] == 3


def test_a_cancelled_order_returns_stock_and_in_stock(live_redis, anonymous, store, tree, client_for):
    last = ProductFactory(store=store, category=tree["hammers"], slug="last-one", stock=1)
    buyer = UserFactory()
    order = checkout(client_for, buyer, (last, 1))
    assert listed(anonymous)["last-one"]["in_stock"] is False

    response = client_for(buyer).post(f"/api/v1/orders/{order['number']}/cancel/")

    assert response.status_code == 200
    assert listed(anonymous)["last-one"]["in_stock"] is True
    assert anonymous.get(detail("last-one")).json()["stock"] == 1


# --- Across processes -------------------------------------------------------------------------


def test_two_processes_agree_because_the_version_lives_in_redis(live_redis, anonymous, clients, product):
    params = settings.CACHES["default"]
    listed(anonymous)
    anonymous.get(detail(product.slug))

    with override_settings(CACHES={"default": {**params}}):  # process B: its own, new cache client
        clients["owner"].patch(detail(product.slug), {"price": "99.00"})
        version_seen_by_b = RedisCache(params["LOCATION"], params).get(CATALOG_VERSION)

    # Process A (a new client again, created after the write) reads the bumped version from Redis.
    assert live_redis.get(CATALOG_VERSION) == version_seen_by_b
    assert listed(anonymous)["claw-hammer"]["price"] == "99.00"
    assert anonymous.get(detail(product.slug)).json()["price"] == "99.00"


# --- Who is served from the cache --------------------------------------------------------------


def test_a_draft_is_never_served_from_the_cache_to_anyone_but_its_owner(live_redis, clients, draft):
    assert clients["owner"].get(detail(draft.slug)).status_code == 200  # the owner: computed, not stored

    for role in ("anonymous", "buyer", "other_seller", "staff"):
        assert clients[role].get(detail(draft.slug)).status_code == 404, role
    assert "secret-hammer" not in listed(clients["anonymous"])
    assert clients["owner"].get(detail(draft.slug)).json()["status"] == "draft"


def test_the_owner_always_reads_fresh(live_redis, clients, product, django_assert_num_queries):
    clients["owner"].get(detail(product.slug))

    with django_assert_num_queries(4):  # the user (token), the product, its images, its variants
        response = clients["owner"].get(detail(product.slug))

    assert response.json()["slug"] == "claw-hammer"


def test_seller_product_lists_are_never_cached(live_redis, seller_client, product, django_assert_num_queries):
    seller_client.get("/api/v1/seller/products/")

    with django_assert_num_queries(3):  # the user (token), count, page
        seller_client.get("/api/v1/seller/products/")


# --- Redis down -------------------------------------------------------------------------------


def test_a_dead_redis_answers_everything_correctly(dead_redis, anonymous, clients, product, tree):
    assert listed(anonymous)["claw-hammer"]["price"] == str(product.price)
    assert anonymous.get(detail(product.slug)).status_code == 200
    assert anonymous.get(CATEGORIES).status_code == 200
    assert anonymous.get(f"{CATEGORIES}tools/").status_code == 200

    assert clients["owner"].patch(detail(product.slug), {"price": "7.00"}).status_code == 200

    assert listed(anonymous)["claw-hammer"]["price"] == "7.00"
    assert anonymous.get(detail(product.slug)).json()["price"] == "7.00"


# --- Variants ---------------------------------------------------------------------------------


@pytest.fixture
def mug_in_colours(store, tree):
    return services.product_create(
        store=store,
        name="Mug",
        category=tree["kitchen"],
        status="active",
        options=[{"name": "Colour", "values": ["Red", "Blue"]}],
        variants=[
            {"options": {"Colour": "Red"}, "price": Decimal("8.00"), "stock": 3},
            {"options": {"Colour": "Blue"}, "price": Decimal("9.00"), "stock": 0},
        ],
    )


def test_variant_writes_retire_the_cached_detail_and_lists(live_redis, anonymous, seller_client, mug_in_colours):
    url = f"/api/v1/products/{mug_in_colours.slug}/variants/"
    assert anonymous.get(detail(mug_in_colours.slug)).json()["price"] == "8.00"
    assert "mug" not in listed(anonymous, option="colour:blue")

    assert seller_client.patch(url + "mug-blue/", {"price": "5.00", "stock": 2}, format="json").status_code == 200
    assert anonymous.get(detail(mug_in_colours.slug)).json()["price"] == "5.00"
    assert "mug" in listed(anonymous, option="colour:blue")

    assert seller_client.patch(url + "mug-blue/", {"is_active": False}, format="json").status_code == 200
    assert [v["sku"] for v in anonymous.get(detail(mug_in_colours.slug)).json()["variants"]] == ["mug-red"]
    assert "mug" not in listed(anonymous, option="colour:blue")

    assert seller_client.post(url, {"options": {"Colour": "Blue"}, "price": "1.00"}, format="json").status_code == 400
    assert seller_client.delete(url + "mug-blue/").status_code == 204
    assert anonymous.get(detail(mug_in_colours.slug)).json()["price"] == "8.00"


def test_the_owner_sees_inactive_variants_past_the_cache_and_staff_see_the_public_detail(
    live_redis, anonymous, clients, mug_in_colours, client_for
):
    Variant.objects.filter(sku="mug-blue").update(is_active=False)
    assert len(anonymous.get(detail(mug_in_colours.slug)).json()["variants"]) == 1  # cached as the public sees it

    owner = client_for(mug_in_colours.store.owner)
    assert len(owner.get(detail(mug_in_colours.slug)).json()["variants"]) == 2
    assert len(clients["staff"].get(detail(mug_in_colours.slug)).json()["variants"]) == 1
