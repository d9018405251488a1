from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count

from apps.accounts.models import Store
from apps.accounts.tests.factories import StoreFactory
from apps.catalog.demo import CATEGORY_TREE, catalog_seed_demo
from apps.catalog.models import Category, Product, ProductImage

pytestmark = pytest.mark.django_db


def test_demo_catalog_has_a_tree_and_stocked_products_in_every_store_and_is_idempotent():
    stores = [StoreFactory() for _ in range(3)]

    assert catalog_seed_demo(stores=stores) == 36
    assert catalog_seed_demo(stores=stores) == 0

    roots = Category.objects.filter(depth=1)
    assert sorted(roots.values_list("name", flat=True)) == sorted(CATEGORY_TREE)
    assert all(root.numchild == 3 for root in roots)
    assert Category.objects.count() == 16
    active = Product.objects.filter(status="active", stock__gt=0)
    assert active.count() == 33
    assert sorted(active.values("store").annotate(n=Count("pk")).values_list("n", flat=True)) == [11, 11, 11]
    assert ProductImage.objects.count() == 36


def test_seed_bulk_spreads_products_over_bulk_stores_and_leaf_categories():
    out = StringIO()

    call_command("seed_bulk", "--products", "120", "--stores", "3", "--seed", "1", "--batch-size", "50", stdout=out)
    call_command("seed_bulk", "--products", "30", "--stores", "3", stdout=StringIO())

    assert "Added 120 products" in out.getvalue()
    assert Product.objects.count() == 150
    assert Store.objects.filter(slug__startswith="bulk-store-").count() == 3
    assert Product.objects.values("store").distinct().count() == 3
    assert Product.objects.values("category").distinct().count() > 8
    assert Product.objects.filter(status="active").count() > 120
    assert not Product.objects.filter(price__lte=0).exists()
    if connection.vendor == "postgresql":
        assert not Product.objects.filter(search_vector__isnull=True).exists()


def test_seed_bulk_refuses_production(settings):
    settings.ENV = "prod"

    with pytest.raises(CommandError, match="refusing with ENV=prod"):
        call_command("seed_bulk", "--products", "1", stdout=StringIO())

    assert not Product.objects.exists()
