from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.tests.factories import StoreFactory
from apps.catalog.filters import ORDERINGS, product_search
from apps.catalog.listing import PlannedPaginator
from apps.catalog.models import Product, ProductImage, Variant
from apps.catalog.tests.factories import ProductFactory, variants_set
from apps.core import pagination

pytestmark = pytest.mark.django_db

LIST = "/api/v1/products/"


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["slug"] for row in response.json()["results"]]


@pytest.fixture
def catalog(tree):
    """Five active products, one per category, made one minute apart (oldest first)."""
    store_a = StoreFactory(name="Alpha", slug="alpha")
    store_b = StoreFactory(name="Beta", slug="beta")
    rows = [
        ("anvil", "Anvil", "tools", store_a, "150.00", 3),
        ("handsaw", "Handsaw", "hand-tools", store_a, "25.00", 0),
        ("mallet", "Mallet", "hammers", store_b, "12.50", 5),
        ("drill", "Drill", "power-tools", store_b, "99.99", 1),
        ("whisk", "Whisk", "kitchen", store_a, "4.00", 20),
    ]
    start = timezone.now() - timedelta(hours=1)
    products = {}
    for minute, (slug, name, category, store, price, stock) in enumerate(rows):
        product = ProductFactory(
            slug=slug, name=name, category=tree[category], store=store, price=Decimal(price), stock=stock
        )
        Product.objects.filter(pk=product.pk).update(created_at=start + timedelta(minutes=minute))
        products[slug] = product
    return products


def test_list_item_has_exactly_the_contract_fields(api_client, catalog):
    Product.objects.filter(slug="whisk").update(rating_avg=Decimal("4.25"), rating_count=8)
    ProductImage.objects.create(
        product=catalog["whisk"], image="products/1/a.png", thumbnail="products/1/thumbs/a.webp", width=1, height=1
    )

    response = api_client.get(LIST)

    assert response.json()["results"][0] == {
        "id": catalog["whisk"].id,
        "slug": "whisk",
        "name": "Whisk",
        "price": "4.00",
        "currency": "USD",
        "store": {"slug": "alpha", "name": "Alpha"},
        "category": {"slug": "kitchen", "name": "Kitchen"},
        "thumbnail_url": "http://testserver/media/products/1/thumbs/a.webp",
        "in_stock": True,
        "rating_avg": "4.25",
        "rating_count": 8,
    }
    assert set(response.json()) == {"count", "next", "previous", "results"}


def test_default_order_is_newest_first(api_client, catalog):
    assert slugs(api_client.get(LIST)) == ["whisk", "drill", "mallet", "handsaw", "anvil"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["whisk", "mallet", "handsaw", "drill", "anvil"]),
        ("-price", ["anvil", "drill", "handsaw", "mallet", "whisk"]),
        ("name", ["anvil", "drill", "handsaw", "mallet", "whisk"]),
        ("-name", ["whisk", "mallet", "handsaw", "drill", "anvil"]),
        ("created_at", ["anvil", "handsaw", "mallet", "drill", "whisk"]),
        ("-created_at", ["whisk", "drill", "mallet", "handsaw", "anvil"]),
        ("relevance", ["whisk", "drill", "mallet", "handsaw", "anvil"]),
    ],
)
def test_ordering(api_client, catalog, ordering, expected):
    assert slugs(api_client.get(LIST, {"ordering": ordering})) == expected


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("tools", ["drill", "mallet", "handsaw", "anvil"]),
        ("hand-tools", ["mallet", "handsaw"]),
        ("hammers", ["mallet"]),
        ("power-tools", ["drill"]),
        ("kitchen", ["whisk"]),
    ],
)
def test_category_includes_every_descendant(api_client, catalog, category, expected):
    assert slugs(api_client.get(LIST, {"category": category})) == expected


def test_category_filter_runs_constant_queries_whatever_the_depth(api_client, catalog, django_assert_num_queries):
    with django_assert_num_queries(3):  # the category, the count, the page
        api_client.get(LIST, {"category": "tools"})
    with django_assert_num_queries(3):
        api_client.get(LIST, {"category": "hammers"})


def test_store_filter(api_client, catalog):
    assert slugs(api_client.get(LIST, {"store": "beta"})) == ["drill", "mallet"]


def test_price_bounds_are_inclusive(api_client, catalog):
    assert slugs(api_client.get(LIST, {"min_price": "12.50", "max_price": "99.99"})) == ["drill", "mallet", "handsaw"]


@pytest.mark.parametrize(
    ("value", "expected"), [("true", ["whisk", "drill", "mallet", "anvil"]), ("false", ["handsaw"])]
)
def test_in_stock(api_client, catalog, value, expected):
    assert slugs(api_client.get(LIST, {"in_stock": value})) == expected


@pytest.mark.parametrize("name", ["in_stock", "ordering", "min_price", "max_price"])
def test_a_choice_or_number_sent_empty_is_refused_not_ignored(api_client, catalog, name):
    response = api_client.get(LIST, {name: ""})

    assert response.status_code == 400
    assert list(response.json()) == [name]


def test_filters_combine(api_client, catalog):
    response = api_client.get(LIST, {"category": "tools", "store": "beta", "in_stock": "true", "ordering": "price"})

    assert slugs(response) == ["mallet", "drill"]


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"min_price": "abc"}, {"min_price": ["Enter a number."]}),
        ({"max_price": "1e30"}, {"max_price": ["Ensure that there are no more than 12 digits in total."]}),
        ({"min_price": "NaN"}, {"min_price": ["Enter a number."]}),
        ({"in_stock": "maybe"}, {"in_stock": ["Select a valid choice. maybe is not one of the available choices."]}),
        ({"ordering": "bogus"}, {"ordering": ["Select a valid choice. bogus is not one of the available choices."]}),
        ({"ordering": "stock"}, {"ordering": ["Select a valid choice. stock is not one of the available choices."]}),
        (
            {"category": "nope"},
            {"category": ["Select a valid choice. That choice is not one of the available choices."]},
        ),
        ({"store": "nope"}, {"store": ["Select a valid choice. That choice is not one of the available choices."]}),
        ({"search": "x" * 201}, {"search": ["Ensure this value has at most 200 characters (it has 201)."]}),
    ],
)
def test_malformed_filters_are_400_naming_the_parameter(api_client, catalog, params, errors):
    response = api_client.get(LIST, params)

    assert response.status_code == 400
    assert response.json() == errors


def test_a_closed_stores_slug_is_an_unknown_store(api_client, catalog):
    StoreFactory(slug="closed", is_active=False)

    assert api_client.get(LIST, {"store": "closed"}).status_code == 400


def test_page_size_is_capped_at_100(api_client, tree):
    _bulk_products(tree, 105)

    response = api_client.get(LIST, {"page_size": 1000})

    assert response.json()["count"] == 105
    assert len(response.json()["results"]) == 100
    assert response.json()["next"] == "http://testserver/api/v1/products/?page=2&page_size=1000"


def _bulk_products(tree, count: int) -> list[Product]:
    store = StoreFactory()
    products = Product.objects.bulk_create(
        Product(store=store, category=tree["hammers"], name=f"Bulk {n}", slug=f"bulk-{n}", price=Decimal("1.00"))
        for n in range(count)
    )
    Variant.objects.bulk_create(
        Variant(product=product, store=store, sku=product.slug, price=Decimal("1.00"), stock=3) for product in products
    )
    Product.objects.update(status=Product.Status.ACTIVE)
    variants_set(*products, stock=3)
    ProductImage.objects.bulk_create(
        ProductImage(product=product, image=f"p/{product.pk}.png", thumbnail=f"p/{product.pk}.webp", width=1, height=1)
        for product in products
    )
    return products


@pytest.mark.parametrize("page_size", [1, 100])
@pytest.mark.parametrize(
    ("params", "queries"),
    [
        ({}, 2),  # count, page
        ({"category": "tools", "store": "bulk"}, 4),  # + the category, + the store
        ({"search": "bulk", "ordering": "price", "in_stock": "true", "min_price": "0.50"}, 2),  # ids + total, rows
    ],
)
def test_list_query_count_is_constant(api_client, tree, django_assert_num_queries, page_size, params, queries):
    _bulk_products(tree, 120)
    StoreFactory(slug="bulk")
    Product.objects.update(store=StoreFactory(slug="bulk-store"))
    params = {**params, "store": "bulk-store"} if "store" in params else params

    with django_assert_num_queries(queries):
        response = api_client.get(LIST, {**params, "page_size": page_size})

    assert len(response.json()["results"]) == page_size
    assert response.json()["results"][0]["thumbnail_url"].endswith(".webp")


@pytest.mark.parametrize("page_size", [1, 100])
def test_seller_list_query_count_is_constant(seller_client, seller, tree, django_assert_num_queries, page_size):
    _bulk_products(tree, 120)
    Product.objects.update(store=seller.store)

    with django_assert_num_queries(3):  # the user (token), count, page
        response = seller_client.get("/api/v1/seller/products/", {"page_size": page_size})

    assert len(response.json()["results"]) == page_size


@pytest.mark.parametrize("page_size", [1, 100])
def test_store_list_counts_active_products_in_constant_queries(api_client, tree, django_assert_num_queries, page_size):
    stores = [StoreFactory(name=f"Shop {n:03}", slug=f"shop-{n:03}") for n in range(101)]
    Product.objects.bulk_create(
        Product(store=store, category=tree["hammers"], name="P", slug=f"p-{store.slug}-{n}", price=1, status=status)
        for store in stores[:3]
        for n, status in enumerate(["active", "active", "draft", "archived"])
    )

    with django_assert_num_queries(2):
        response = api_client.get("/api/v1/stores/", {"page_size": page_size})

    counts = [row["product_count"] for row in response.json()["results"]]
    assert counts[:3] == ([2, 2, 2] if page_size == 100 else [2])
    assert sum(counts) == (6 if page_size == 100 else 2)
    assert api_client.get("/api/v1/stores/shop-100/").json()["product_count"] == 0


def test_count_is_exact_up_to_the_limit(api_client, catalog, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(pagination.EstimatingPaginator, "exact_count_limit", 5)

    with django_assert_num_queries(2):
        response = api_client.get(LIST, {"page_size": 1})

    assert response.json()["count"] == 5


@pytest.mark.parametrize("params", [{}, {"store": "beta"}, {"in_stock": "true", "ordering": "name"}])
def test_the_count_joins_only_what_the_filters_need(api_client, catalog, params):
    """The rows show the category's name, the count does not: it joins the store (public stores
    only) and nothing the columns alone need."""
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(LIST, {**params, "page_size": 1})

    (count_sql,) = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("SELECT COUNT(*)")]
    assert "catalog_category" not in count_sql
    assert "catalog_productimage" not in count_sql
    assert "accounts_store" in count_sql
    public = Product.objects.filter(status=Product.Status.ACTIVE, store__is_active=True)
    if "store" in params:
        public = public.filter(store__slug=params["store"])
    if "in_stock" in params:
        public = public.filter(stock__gt=0)
    assert response.json()["count"] == public.count() > 0


def test_count_beyond_the_limit_is_exact_on_sqlite_and_estimated_on_postgresql(api_client, catalog, monkeypatch):
    monkeypatch.setattr(pagination.EstimatingPaginator, "exact_count_limit", 3)
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(LIST, {"page_size": 1})

    explains = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("EXPLAIN")]
    if connection.vendor == "postgresql":
        assert len(explains) == 1
        assert response.json()["count"] >= 4
    else:
        assert explains == []
        assert response.json()["count"] == 5


@pytest.mark.postgres
def test_planner_estimate_follows_the_filters(catalog):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_product")

    everything = pagination.planner_row_estimate(Product.objects.all())
    one = pagination.planner_row_estimate(Product.objects.filter(slug="anvil"))

    assert everything == 5
    assert one == 1


def test_planner_estimate_is_none_off_postgresql(catalog):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL answers an estimate")
    assert pagination.planner_row_estimate(Product.objects.all()) is None


@pytest.mark.parametrize("rated", [True, False])
def test_the_fast_list_rendering_equals_the_generic_rendering_of_the_declared_fields(catalog, rated):
    from rest_framework.test import APIRequestFactory

    from apps.catalog.selectors import _list_queryset, product_list_public
    from apps.catalog.serializers import ProductListOutputSerializer

    Product.objects.filter(slug="drill").update(rating_avg=Decimal("3.7") if rated else None, rating_count=3)
    ProductImage.objects.create(product=catalog["drill"], image="a.png", thumbnail="t/a.webp", width=1, height=1)
    serializer = ProductListOutputSerializer(context={"request": APIRequestFactory().get("/")})

    for slug in ("drill", "handsaw"):
        row = product_list_public().get(slug=slug)
        model = _list_queryset().get(slug=slug)
        assert serializer.to_representation(row) == serializer.declared_representation(model)


def test_the_lists_results_are_the_declared_fields_of_each_product(api_client, catalog):
    """The view renders its rows with product_list_rows, no serializer per row: what it answers
    is still what the declared serializer fields give for the same products."""
    from rest_framework.test import APIRequestFactory

    from apps.catalog.selectors import _list_queryset
    from apps.catalog.serializers import ProductListOutputSerializer

    Product.objects.filter(slug="drill").update(rating_avg=Decimal("3.7"), rating_count=3)
    ProductImage.objects.create(product=catalog["drill"], image="a.png", thumbnail="t/a.webp", width=1, height=1)
    serializer = ProductListOutputSerializer(context={"request": APIRequestFactory().get("/")})

    results = api_client.get(LIST).json()["results"]

    assert [row["slug"] for row in results] == ["whisk", "drill", "mallet", "handsaw", "anvil"]
    assert results == [serializer.declared_representation(_list_queryset().get(slug=row["slug"])) for row in results]
    assert results[1]["thumbnail_url"] == "http://testserver/media/t/a.webp"


@pytest.mark.postgres
def test_an_estimate_is_reused_for_a_while_and_an_exact_count_never(api_client, catalog, monkeypatch):
    monkeypatch.setattr(pagination.EstimatingPaginator, "exact_count_limit", 3)
    with CaptureQueriesContext(connection) as first:
        estimated = api_client.get(LIST, {"page_size": 2}).json()["count"]
    with CaptureQueriesContext(connection) as again:
        assert api_client.get(LIST, {"page_size": 2, "page": 2}).json()["count"] == estimated
    monkeypatch.setattr(pagination.EstimatingPaginator, "exact_count_limit", 10)
    with CaptureQueriesContext(connection) as exact:
        api_client.get(LIST, {"in_stock": "true"})
        api_client.get(LIST, {"in_stock": "true"})

    assert [query["sql"][:7] for query in first.captured_queries] == ["SELECT ", "EXPLAIN", "SELECT "]
    assert len(again.captured_queries) == 1  # the page only
    assert sum("COUNT(*)" in query["sql"] for query in exact.captured_queries) == 2


def _all_pages(client, params, path=LIST) -> list[str]:
    found, page = [], 1
    while True:
        response = client.get(path, {**params, "page": page, "page_size": 4})
        found += slugs(response)
        if response.json()["next"] is None:
            return found
        page += 1


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"ordering": "price"},
        {"ordering": "-name"},
        {"ordering": "created_at", "category": "hand-tools"},
    ],
)
def test_deep_pages_built_as_deferred_joins_list_what_plain_offsets_list(api_client, tree, monkeypatch, params):
    """The public list (compiled, listing.py): from PlannedPaginator.deferred_from on, a page is
    its ids by the filters and order alone, then the rows of those ids."""
    for number, product in enumerate(_bulk_products(tree, 23)):
        Product.objects.filter(pk=product.pk).update(name=f"Bulk {number % 7} {number}")
        variants_set(product, price=Decimal(number % 5 + 1))
    plain = _all_pages(api_client, params)
    monkeypatch.setattr(PlannedPaginator, "deferred_from", 4)  # from page 2 on

    with CaptureQueriesContext(connection) as queries:
        deferred = _all_pages(api_client, params)

    assert deferred == plain
    assert sorted(plain) == sorted(f"bulk-{n}" for n in range(23))
    statements = [query["sql"] for query in queries.captured_queries if "COUNT(*)" not in query["sql"]]
    assert len(statements) == 1 + 2 * 5  # page 1 in one statement, then ids and rows for pages 2-6
    assert "first_thumbnail" in statements[0]
    ids, rows = statements[1::2], statements[2::2]
    assert all("first_thumbnail" not in sql and "OFFSET" in sql for sql in ids)
    assert all("first_thumbnail" in sql and "OFFSET" not in sql for sql in rows)


@pytest.mark.parametrize("params", [{}, {"ordering": "-name"}, {"ordering": "price", "category": "hand-tools"}])
def test_the_sellers_deep_pages_built_as_deferred_joins_list_what_plain_offsets_list(
    seller_client, seller, tree, monkeypatch, params
):
    """The seller's list (a queryset, DeferredJoinPaginator): from deferred_join_offset on, one
    statement whose page's ids are a subquery."""
    for number, product in enumerate(_bulk_products(tree, 23)):
        Product.objects.filter(pk=product.pk).update(name=f"Bulk {number % 7} {number}", store=seller.store)
        variants_set(product, price=Decimal(number % 5 + 1))
    path = "/api/v1/seller/products/"
    plain = _all_pages(seller_client, params, path)
    monkeypatch.setattr(pagination.DeferredJoinPaginator, "deferred_join_offset", 4)  # from page 2 on

    with CaptureQueriesContext(connection) as queries:
        deferred = _all_pages(seller_client, params, path)

    assert deferred == plain
    assert sorted(plain) == sorted(f"bulk-{n}" for n in range(23))
    deferred_join = '"catalog_product"."id" IN (SELECT '
    model_rows = 'SELECT "catalog_product"."id", "catalog_product"."created_at"'
    pages = [query["sql"] for query in queries.captured_queries if query["sql"].startswith(model_rows)]
    assert len(pages) == 6  # one statement per page
    assert deferred_join not in pages[0]
    assert all(deferred_join in sql for sql in pages[1:])


def test_a_deep_page_costs_one_statement_more_than_the_first(api_client, tree, django_assert_num_queries):
    _bulk_products(tree, 230)
    api_client.get(LIST, {"page_size": 10})  # compiled

    with django_assert_num_queries(3):  # count, the page's ids, their rows
        response = api_client.get(LIST, {"page": 23, "page_size": 10})

    assert [row["slug"] for row in response.json()["results"]] == [f"bulk-{n}" for n in range(9, -1, -1)]
    assert response.json()["results"][0]["thumbnail_url"].endswith(".webp")


@pytest.mark.parametrize("path", [LIST, "/api/v1/seller/products/"])
def test_a_search_page_and_its_count_take_two_statements(seller_client, seller, tree, path, django_assert_num_queries):
    _bulk_products(tree, 23)
    Product.objects.update(store=seller.store)

    for page, size in [(1, 5), (5, 3)]:
        with django_assert_num_queries(3):  # the token's user; the page's ids with the total; the rows
            response = seller_client.get(path, {"search": "bulk", "page": page, "page_size": 5})
        body = response.json()
        assert body["count"] == 23
        assert len(body["results"]) == size
    assert seller_client.get(path, {"search": "bulk", "page": 6, "page_size": 5}).status_code == 404
    assert seller_client.get(path, {"search": "nothing"}).json()["count"] == 0


@pytest.mark.parametrize("ordering", ["relevance", "price", "-price", "name", "-created_at"])
def test_search_pages_list_the_matches_in_the_order_asked(api_client, tree, ordering):
    for number, product in enumerate(_bulk_products(tree, 23)):
        name = f"Bulk {number % 7} {number}" if number % 3 else f"Bulk Bulk {number}"  # some rank higher
        Product.objects.filter(pk=product.pk).update(name=name)
        variants_set(product, price=Decimal(number % 5 + 1))
    listing = product_search(Product.objects.all(), "bulk").order_by(*ORDERINGS[ordering])

    assert _all_pages(api_client, {"search": "bulk", "ordering": ordering}) == [product.slug for product in listing]
