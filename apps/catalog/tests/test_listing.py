"""The public list compiled once per query (apps/catalog/listing.py): a reused plan answers what
building the listing afresh answers, reads current rows, and keeps the 400s that depend on data."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.accounts.models import Store
from apps.accounts.tests.factories import StoreFactory
from apps.catalog import listing
from apps.catalog.models import Product, ProductImage
from apps.catalog.pagination import ProductPagination
from apps.catalog.selectors import product_list_public
from apps.catalog.serializers import product_list_rows
from apps.catalog.tests.factories import CategoryFactory, ProductFactory, variants_set

pytestmark = pytest.mark.django_db

LIST = "/api/v1/products/"
UNKNOWN = {"category": ["Select a valid choice. That choice is not one of the available choices."]}


@pytest.fixture
def shop(tree):
    """Twelve active products in two stores and three categories, with prices, stock, images, a
    sized variant on some, names that a search finds in part."""
    stores = [StoreFactory(name="Alpha", slug="alpha"), StoreFactory(name="Beta", slug="beta")]
    categories = ["hammers", "power-tools", "kitchen"]
    for number in range(12):
        product = ProductFactory(
            slug=f"item-{number}",
            name=f"{'Oak' if number % 3 else 'Steel'} hammer {number}",
            store=stores[number % 2],
            category=tree[categories[number % 3]],
        )
        if number % 4 == 0:
            variants_set(product, price=Decimal(number + 1), stock=0)
        else:
            variants_set(product, price=Decimal(number + 1), stock=number)
        if number % 2:
            ProductImage.objects.create(
                product=product, image=f"p/{number}.png", thumbnail=f"p/{number}.webp", width=1, height=1
            )
    return stores


def reference(params: dict) -> dict:
    """The list as the queryset path builds it: product_list_public paged by ProductPaginator."""
    request = Request(APIRequestFactory().get(LIST, params))
    pagination = ProductPagination()
    page = pagination.paginate_queryset(product_list_public(filters=request.query_params), request)
    return json.loads(json.dumps(pagination.get_paginated_response(product_list_rows(page, request=request)).data))


QUERIES = [
    {},
    {"page": 2, "page_size": 5},
    {"page": 3, "page_size": 5},
    {"ordering": "price"},
    {"ordering": "-name", "page_size": 4, "page": 2},
    {"category": "tools"},
    {"category": "kitchen", "in_stock": "true"},
    {"store": "beta", "ordering": "-price"},
    {"min_price": "3", "max_price": "9.50"},
    {"in_stock": "false"},
    {"search": "hammer", "page_size": 5},
    {"search": "hammer", "page_size": 5, "page": 2},
    {"search": "oak ham", "ordering": "price"},
    {"search": "steel", "category": "tools", "store": "alpha"},
    {"search": "!!!"},
    {"category": "power-tools", "store": "alpha", "in_stock": "true"},
]


@pytest.mark.parametrize("params", QUERIES)
def test_a_compiled_listing_answers_what_the_queryset_answers_first_and_again(api_client, shop, params):
    expected = reference(params)
    assert expected["count"] > 0 or params.get("search") == "!!!"

    first = api_client.get(LIST, params)
    again = api_client.get(LIST, params)

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == expected


def test_a_reused_listing_reads_the_current_rows_in_fewer_statements(api_client, shop, tree, django_assert_num_queries):
    with django_assert_num_queries(3):  # the category checked by the form, the count, the page
        before = api_client.get(LIST, {"category": "tools"}).json()
    chisels = CategoryFactory(name="Chisels", slug="chisels", parent=tree["hand-tools"])
    ProductFactory(slug="new-chisel", name="Chisel", store=shop[0], category=chisels)

    with django_assert_num_queries(2):  # the count, the page: the category is named in their SQL
        after = api_client.get(LIST, {"category": "tools"}).json()

    assert after["count"] == before["count"] + 1
    assert after["results"][0]["slug"] == "new-chisel"  # newest first, in a category made since


def test_an_unknown_category_is_a_400_whether_or_not_the_listing_was_compiled(api_client, shop, tree):
    gone = CategoryFactory(name="Gone", slug="gone", parent=tree["tools"])
    assert api_client.get(LIST, {"category": "gone"}).json()["count"] == 0  # compiled and kept

    gone.delete()
    response = api_client.get(LIST, {"category": "gone"})

    assert response.status_code == 400
    assert response.json() == UNKNOWN == api_client.get(LIST, {"category": "never"}).json()


def test_a_store_closed_since_the_listing_was_compiled_is_a_400(api_client, shop):
    assert api_client.get(LIST, {"store": "beta"}).json()["count"] == 6
    Store.objects.filter(slug="beta").update(is_active=False)

    assert api_client.get(LIST, {"store": "beta", "search": "hammer"}).status_code == 400  # never compiled
    response = api_client.get(LIST, {"store": "beta"})

    assert response.status_code == 400
    assert response.json() == {"store": ["Select a valid choice. That choice is not one of the available choices."]}


def test_both_unknown_slugs_are_named_when_a_compiled_listing_comes_back_empty(api_client, shop, tree):
    params = {"category": "kitchen", "store": "beta", "search": "zzz"}
    assert api_client.get(LIST, params).json()["count"] == 0
    Product.objects.filter(category=tree["kitchen"]).update(category=tree["tools"])
    tree["kitchen"].delete()
    Store.objects.filter(slug="beta").update(is_active=False)

    response = api_client.get(LIST, params)

    assert response.status_code == 400
    assert set(response.json()) == {"category", "store"}


def test_a_category_slug_is_checked_as_the_form_cleans_it(api_client, shop):
    """The form strips the category's spaces; the check of a compiled listing does too."""
    params = {"category": " kitchen ", "search": "zzz"}
    assert api_client.get(LIST, params).json()["count"] == 0
    assert api_client.get(LIST, params).status_code == 200


def test_a_malformed_query_is_never_kept(api_client, shop):
    for _ in range(2):
        response = api_client.get(LIST, {"min_price": "cheap"})
        assert response.status_code == 400
        assert set(response.json()) == {"min_price"}
    assert listing._plans == {}


def test_the_page_and_its_size_share_one_plan_and_other_parameters_none(api_client, shop):
    api_client.get(LIST, {"ordering": "price", "page": 1})
    api_client.get(LIST, {"ordering": "price", "page": 2, "page_size": 3, "utm_source": "x"})
    api_client.get(LIST, {"ordering": "-price"})

    assert [key for _, key in listing._plans] == ["ordering=price", "ordering=-price"]


def test_a_worker_keeps_the_most_recently_used_plans_only(api_client, shop, monkeypatch):
    monkeypatch.setattr(listing, "MAX_PLANS", 2)
    for ordering in ("price", "name", "price", "-name"):
        api_client.get(LIST, {"ordering": ordering})

    assert [key for _, key in listing._plans] == ["ordering=price", "ordering=-name"]


def test_a_deep_page_of_a_compiled_listing_pages_as_a_deferred_join(api_client, shop, monkeypatch):
    from apps.core import pagination

    expected = reference({"ordering": "name", "page": 3, "page_size": 4})
    monkeypatch.setattr(pagination.DeferredJoinPaginator, "deferred_join_offset", 4)

    api_client.get(LIST, {"ordering": "name"})  # compiled
    response = api_client.get(LIST, {"ordering": "name", "page": 3, "page_size": 4})

    assert response.json() == expected


def test_rows_of_a_search_page_go_where_their_ids_were_bound(shop):
    """The statement that reads a search page's rows is compiled once per page size with ids no
    row has; each request's ids take their places."""
    plan = listing.product_list_planned(query={"search": "hammer"})
    ids = list(Product.objects.order_by("-id").values_list("id", flat=True)[:3])

    assert plan.searching
    rows = plan.rows_of(connection, ids)

    assert [row["id"] for row in rows] == ids
    assert [row["slug"] for row in rows] == list(Product.objects.order_by("-id").values_list("slug", flat=True)[:3])


def _detail_by_queryset(slug: str) -> dict:
    from apps.catalog.selectors import PUBLIC, _detail_queryset, _variants_shown
    from apps.catalog.serializers import ProductDetailOutputSerializer

    product = _variants_shown(_detail_queryset().filter(PUBLIC, slug=slug).first(), user=None)
    return json.loads(json.dumps(ProductDetailOutputSerializer(product, context={"request": _request()}).data))


def _request():
    return Request(APIRequestFactory().get("/"))


def test_the_compiled_product_page_answers_what_the_queryset_answers(shop, django_assert_num_queries):
    from apps.catalog.selectors import product_get_public
    from apps.catalog.serializers import ProductDetailOutputSerializer

    sized = Product.objects.get(slug="item-1")
    Product.objects.filter(pk=sized.pk).update(rating_avg=Decimal("4.50"), rating_count=2)
    ProductImage.objects.create(product=sized, image="p/second.png", thumbnail="", width=1, height=1, position=0)
    variants = list(sized.variants.all())
    variants[0].__class__.objects.filter(pk=variants[0].pk).update(options={"size": "M"})
    for slug in ("item-0", "item-1", "item-2"):
        expected = _detail_by_queryset(slug)
        for _ in range(2):  # compiled on first use, reused
            with django_assert_num_queries(3):  # the product with its store and category, images, variants
                product = product_get_public(slug=slug)
            answered = ProductDetailOutputSerializer(product, context={"request": _request()}).data
            assert json.loads(json.dumps(answered)) == expected
        if slug == "item-1":
            assert [image["url"].rsplit("/", 1)[1] for image in expected["images"]] == ["1.png", "second.png"]
            assert expected["rating_avg"] == "4.50"
            assert expected["variants"][0]["options"] == {"size": "M"}


def test_the_compiled_product_page_shows_active_variants_of_public_products_only(shop):
    from apps.catalog.selectors import product_get_public
    from apps.core.exceptions import NotFound

    product = Product.objects.get(slug="item-3")
    variants_set(product, price=Decimal("2.00"), stock=1)
    product.variants.update(is_active=False)
    assert product_get_public(slug="item-3").variant_list == []

    Product.objects.filter(slug="item-5").update(status=Product.Status.DRAFT)
    Store.objects.filter(slug="alpha").update(is_active=False)  # item-0, item-2, ...
    for slug in ("item-5", "item-2", "missing"):
        with pytest.raises(NotFound):
            product_get_public(slug=slug)


def test_a_slot_must_be_bound_exactly_once(shop):
    from django.db.models import Q

    from apps.catalog.compiled import Compiled

    marker = "\x00marker"
    once = Compiled.of(Product.objects.filter(slug=marker).values("id"), using="default", slots={"slug": marker})
    assert once.rows(connection, bind={"slug": "item-4"}) == [{"id": Product.objects.get(slug="item-4").id}]
    with pytest.raises(AssertionError, match="bound 2 times"):
        Compiled.of(
            Product.objects.filter(Q(slug=marker) | Q(name=marker)).values("id"), using="default", slots={"s": marker}
        )
    with pytest.raises(AssertionError, match="bound 0 times"):
        Compiled.of(Product.objects.values("id"), using="default", slots={"s": marker})
