"""Variant writes racing on PostgreSQL: threads, each with its own connection. The product's
variants' and row locks keep the rules (one active variant at least, derived price and stock)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from apps.accounts.tests.factories import StoreFactory
from apps.catalog import services, variants
from apps.catalog.exceptions import LastVariant
from apps.catalog.models import Product, Variant
from apps.catalog.tests.factories import CategoryFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(calls):
    """Run every call in its own thread, released at once by a barrier; return each result or the
    exception it raised."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait()
            return call()
        except Exception as error:  # noqa: BLE001 - the outcome under test
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _product(count: int) -> Product:
    values = [f"v{n}" for n in range(count)]
    return services.product_create(
        store=StoreFactory(),
        name="Racy",
        category=CategoryFactory(),
        status="active",
        options=[{"name": "n", "values": values}],
        variants=[{"options": {"n": v}, "price": Decimal(n + 1), "stock": 5} for n, v in enumerate(values)],
    )


def test_deactivating_the_last_two_variants_at_once_keeps_one_active():
    product = _product(2)
    both = list(product.variants.all())

    outcomes = run_together([lambda v=v: variants.variant_update(variant=v, data={"is_active": False}) for v in both])

    assert sum(isinstance(outcome, LastVariant) for outcome in outcomes) == 1
    assert product.variants.filter(is_active=True).count() == 1
    kept = product.variants.get(is_active=True)
    product.refresh_from_db()
    assert (product.price, product.stock) == (kept.price, 5)


def test_deleting_every_variant_at_once_keeps_one():
    product = _product(4)

    outcomes = run_together([lambda v=v: variants.variant_delete(variant=v) for v in product.variants.all()])

    assert sum(outcome is True for outcome in outcomes) == 3
    assert sum(isinstance(outcome, LastVariant) for outcome in outcomes) == 1
    assert product.variants.count() == 1


def test_concurrent_price_changes_leave_the_derived_price_right():
    product = _product(6)
    targets = list(product.variants.all())

    run_together(
        [
            lambda v=v, n=n: variants.variant_update(variant=v, data={"price": Decimal(50 - n), "stock": n})
            for n, v in enumerate(targets)
        ]
    )

    product.refresh_from_db()
    active = Variant.objects.filter(product=product, is_active=True)
    assert product.price == min(active.values_list("price", flat=True)) == Decimal(45)
    assert product.stock == sum(active.values_list("stock", flat=True)) == 15
