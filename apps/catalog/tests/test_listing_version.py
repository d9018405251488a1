"""The public list's exact count, kept per listing while the catalogue's listing version stands
(migration catalog 0008, ``ListingPlan.count``): every change the count depends on moves the
version when it commits, a change it does not depend on (stock: every checkout) never does.

Transactional tests: the version moves when a transaction commits (deferred triggers), and a
count read inside a transaction (a test's, say) never comes from what was kept."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.models import Store
from apps.accounts.tests.factories import StoreFactory
from apps.catalog import listing
from apps.catalog.models import Category, Product, Variant
from apps.catalog.services import category_update
from apps.catalog.tests.factories import CategoryFactory, ProductFactory, variants_set
from apps.core import pagination

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LIST = "/api/v1/products/"


def version() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM catalog_listing_version WHERE id = 1")
        return cursor.fetchone()[0]


def answer(params: dict | None = None) -> tuple[int, object]:
    """The list's status and count (a 400's body)."""
    response = APIClient().get(LIST, params or {})
    body = response.json()
    return response.status_code, body["count"] if response.status_code == 200 else body


def count(params: dict | None = None) -> int:
    status, total = answer(params)
    assert status == 200, total
    return total


def answered_afresh(params: dict | None = None) -> tuple[int, object]:
    listing.plans_clear()
    return answer(params)


@pytest.fixture
def catalogue():
    tools = CategoryFactory(name="Tools", slug="tools")
    hammers = CategoryFactory(name="Hammers", slug="hammers", parent=tools)
    kitchen = CategoryFactory(name="Kitchen", slug="kitchen")
    stores = [StoreFactory(slug="alpha"), StoreFactory(slug="beta")]
    for number in range(6):
        product = ProductFactory(
            slug=f"item-{number}", store=stores[number % 2], category=hammers if number % 3 else kitchen
        )
        variants_set(product, price=Decimal(number + 1), stock=number + 1)
    return {"tools": tools, "hammers": hammers, "kitchen": kitchen, "stores": stores}


def test_a_kept_count_is_served_while_the_version_stands(catalogue):
    assert count() == 6
    assert count() == 6
    # A change that moves nothing (triggers off for this session): the kept count is what answers.
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            Product.objects.filter(slug="item-0").update(status=Product.Status.ARCHIVED)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
    assert count() == 6
    assert answered_afresh() == (200, 5)


CHANGES = {
    "a product created": lambda c: ProductFactory(store=c["stores"][0], category=c["hammers"]),
    "a product archived": lambda c: Product.objects.filter(slug="item-1").update(status=Product.Status.ARCHIVED),
    "a product deleted": lambda c: Product.objects.filter(slug="item-2").delete(),
    "a product moved to another store": lambda c: Product.objects.filter(slug="item-1").update(store=c["stores"][0]),
    "a product moved to another category": lambda c: Product.objects.filter(slug="item-1").update(
        category=c["kitchen"]
    ),
    "a product's price changed": lambda c: Product.objects.filter(slug="item-4").update(price=Decimal("50.00")),
    "a store closed": lambda c: Store.objects.filter(slug="beta").update(is_active=False),
    "a category moved": lambda c: category_update(category=Category.objects.get(slug="kitchen"), parent=c["tools"]),
    "a category deleted with its products": lambda c: (
        Product.objects.filter(category=c["kitchen"]).delete(),
        Category.objects.filter(slug="kitchen").delete(),
    ),
}
LISTINGS = [
    {},
    {"category": "tools"},
    {"category": "kitchen", "ordering": "price"},
    {"store": "alpha"},
    {"store": "beta", "category": "hammers"},
    {"min_price": "3", "max_price": "5"},
]


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_every_change_a_count_depends_on_moves_the_version_once_and_the_counts_follow(catalogue, change):
    before = [answer(params) for params in LISTINGS]
    moved_from = version()

    with transaction.atomic():
        CHANGES[change](catalogue)
        CHANGES[change](catalogue)  # twice in one transaction: one move

    assert version() == moved_from + 1
    after = [answer(params) for params in LISTINGS]
    assert after == [answered_afresh(params) for params in LISTINGS]  # never a count kept from before
    assert after != before


def test_stock_and_what_a_checkout_writes_never_move_the_version(catalogue):
    count({"store": "alpha"})
    standing = version()
    Product.objects.update(stock=F("stock") + 1)
    Variant.objects.update(stock=F("stock") - 1)
    Product.objects.filter(slug="item-0").update(name="Renamed", description="Other words", rating_count=3)

    assert version() == standing
    assert listing.product_list_planned(query={"store": "alpha"})._counted[0] == standing


def test_a_transaction_moves_the_version_when_it_commits_and_reads_its_own_changes_meanwhile(catalogue):
    assert count() == 6
    standing = version()
    with transaction.atomic():
        Product.objects.filter(slug="item-3").update(status=Product.Status.ARCHIVED)
        assert version() == standing  # deferred to the commit: other connections see both together
        assert count() == 5  # counted afresh inside the transaction, never the kept 6
    assert version() == standing + 1
    assert count() == 5


def test_listings_with_filters_the_version_does_not_cover_are_counted_every_time(catalogue):
    for params in (
        {"in_stock": "true"},
        {"search": "item"},
        {"option": "size:m"},
        {"category": "tools", "in_stock": "true"},
    ):
        count(params)
        assert not listing.product_list_planned(query=params).versioned, params
    for params in LISTINGS:
        assert listing.product_list_planned(query=params).versioned, params


def test_a_listing_over_the_exact_limit_is_estimated_without_counting_twice(catalogue, monkeypatch):
    monkeypatch.setattr(pagination.EstimatingPaginator, "exact_count_limit", 3)
    with CaptureQueriesContext(connection) as first:
        estimated = count()
    with CaptureQueriesContext(connection) as again:
        assert count() == estimated >= 4

    # The version with the capped count (4 > 3), the planner's estimate, the page; then the
    # version alone (the capped count kept) with the estimate remembered, and the page.
    assert [query["sql"][:13] for query in first.captured_queries] == [
        "SELECT value,",
        "EXPLAIN (FORM",
        'SELECT "catal',
    ]
    assert [query["sql"][:13] for query in again.captured_queries] == ["SELECT value,", 'SELECT "catal']
    assert sum("COUNT(*)" in query["sql"] for query in first.captured_queries) == 1
    # A count kept at one limit is never read at another: "more than 3" is not an exact 4.
    monkeypatch.setattr(pagination.EstimatingPaginator, "exact_count_limit", 10)
    assert count() == 6


def test_the_version_row_adds_no_lock_order_deadlock(catalogue):
    """Two transactions each change a product the other then needs. Were the version moved at
    each change, the first would hold the version row while waiting for the second's product and
    the second would wait for the version row: a deadlock. Moved at commit, the first waits for
    the second to commit and both succeed."""
    first_product, second_product = Product.objects.get(slug="item-0"), Product.objects.get(slug="item-1")
    standing = version()
    changed, errors = threading.Event(), []

    def second() -> None:
        try:
            with transaction.atomic():
                Product.objects.filter(pk=second_product.pk).update(status=Product.Status.ARCHIVED)
                changed.set()
                time.sleep(0.5)  # the first transaction now waits for this product's row
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    with transaction.atomic():
        Product.objects.filter(pk=first_product.pk).update(status=Product.Status.ARCHIVED)
        thread = threading.Thread(target=second)
        thread.start()
        assert changed.wait(5), "the second transaction waited for the version row"
        Product.objects.filter(pk=second_product.pk).update(price=Decimal("9.99"))
    thread.join(10)

    assert errors == []
    assert version() == standing + 2
    assert count() == 4
