from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Min, OuterRef, Subquery, Sum

from apps.accounts.models import Store
from apps.accounts.tests.factories import StoreFactory
from apps.catalog.demo import CATEGORY_TREE, catalog_seed_demo
from apps.catalog.management.commands import seed_bulk
from apps.catalog.models import Category, Product, ProductImage, Variant

pytestmark = pytest.mark.django_db


def test_demo_catalog_has_a_tree_and_stocked_products_in_every_store_and_is_idempotent():
    stores = [StoreFactory() for _ in range(3)]

    assert catalog_seed_demo(stores=stores) == 39
    assert catalog_seed_demo(stores=stores) == 0

    roots = Category.objects.filter(depth=1)
    assert sorted(roots.values_list("name", flat=True)) == sorted(CATEGORY_TREE)
    assert all(root.numchild == 3 for root in roots)
    assert Category.objects.count() == 16
    active = Product.objects.filter(status="active", stock__gt=0)
    assert active.count() == 36
    assert sorted(active.values("store").annotate(n=Count("pk")).values_list("n", flat=True)) == [12, 12, 12]
    assert ProductImage.objects.count() == 39
    tee = Product.objects.get(name="Codebreakers T-Shirt")
    assert (tee.price, tee.stock, tee.variants.count()) == (Decimal("22.00"), 48, 6)
    assert sorted(Variant.objects.filter(product__name="Stoneware Mug").values_list("options__Colour", flat=True)) == [
        "Ochre",
        "Sage",
        "Slate",
    ]
    # Every product has a variant, and its price and stock are the variants'.
    assert not Product.objects.filter(variants__isnull=True).exists()
    for product in Product.objects.all():
        active = product.variants.filter(is_active=True)
        assert product.price == min(active.values_list("price", flat=True))
        assert product.stock == sum(active.values_list("stock", flat=True))


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
    # Every product has variants, about a third of them options; price and stock are derived.
    assert not Product.objects.filter(variants__isnull=True).exists()
    counts = dict(Product.objects.annotate(n=Count("variants")).values_list("pk", "n"))
    with_options = Product.objects.exclude(options=[])
    assert 20 <= with_options.count() <= 80
    assert all(3 <= counts[pk] <= 12 for pk in with_options.values_list("pk", flat=True))
    assert all(counts[pk] == 1 for pk in Product.objects.filter(options=[]).values_list("pk", flat=True))
    derived = Variant.objects.filter(product=OuterRef("pk"), is_active=True).values("product")
    mismatched = Product.objects.annotate(
        low=Subquery(derived.annotate(x=Min("price")).values("x")),
        total=Subquery(derived.annotate(x=Sum("stock")).values("x")),
    ).exclude(price=F("low"), stock=F("total"))
    assert not mismatched.exists()
    for product in Product.objects.prefetch_related("variants"):
        skus = [variant.sku for variant in product.variants.all()]
        assert skus == [product.slug] if not product.options else all(sku.startswith(product.slug[:20]) for sku in skus)


def test_seed_bulk_skus_stay_unique_for_long_names_in_one_store(monkeypatch):
    monkeypatch.setattr(seed_bulk, "ADJECTIVES", ("Extraordinarily Long-Lasting",))
    monkeypatch.setattr(seed_bulk, "MATERIALS", ("Reclaimed Scandinavian Oak",))
    monkeypatch.setattr(seed_bulk, "WITH_OPTIONS", 1.0)  # every product has options: skus from the name

    call_command("seed_bulk", "--products", "20", "--stores", "1", "--seed", "3", stdout=StringIO())

    assert Product.objects.count() == 20
    assert Variant.objects.count() >= 60
    assert max(len(sku) for sku in Variant.objects.values_list("sku", flat=True)) <= 64
    if connection.vendor == "postgresql":
        assert not Product.objects.filter(search_vector__isnull=True).exists()


def test_seed_bulk_refuses_production(settings):
    settings.ENV = "prod"

    with pytest.raises(CommandError, match="refusing with ENV=prod"):
        call_command("seed_bulk", "--products", "1", stdout=StringIO())

    assert not Product.objects.exists()


class Terminal(StringIO):
    """A stream that says it is a terminal, as stderr does in an interactive shell."""

    def isatty(self) -> bool:
        return True


BAR = ("%|", "products/s", "█", "\r")


def test_seed_bulk_shows_no_bar_when_stderr_is_not_a_terminal():
    out, err = StringIO(), StringIO()

    call_command("seed_bulk", "--products", "30", "--stores", "2", "--batch-size", "10", stdout=out, stderr=err)

    assert not any(mark in err.getvalue() + out.getvalue() for mark in BAR)
    assert "  30 products (" in out.getvalue()  # the quiet log line instead
    assert "Added 30 products" in out.getvalue()


def test_seed_bulk_shows_a_bar_with_rate_and_time_left_on_a_terminal():
    out, err = StringIO(), Terminal()

    call_command("seed_bulk", "--products", "30", "--stores", "2", "--batch-size", "10", stdout=out, stderr=err)

    bar = err.getvalue()
    assert "seed_bulk: 100%|" in bar
    assert "30.0/30.0 [" in bar  # done/total [elapsed<time left, rate]
    assert "<00:00" in bar
    assert "products/s]" in bar
    assert "  30 products (" not in out.getvalue()  # the bar replaces the periodic lines
    assert "Added 30 products" in out.getvalue()


def test_seed_bulk_progress_flags_override_the_terminal_check():
    forced, silenced = StringIO(), Terminal()

    call_command("seed_bulk", "--products", "5", "--stores", "1", "--progress", stdout=StringIO(), stderr=forced)
    call_command("seed_bulk", "--products", "5", "--stores", "1", "--no-progress", stdout=StringIO(), stderr=silenced)

    assert "100%|" in forced.getvalue()
    assert not any(mark in silenced.getvalue() for mark in BAR)


def test_seed_bulk_updates_the_bar_once_per_batch_not_per_row(monkeypatch):
    updates = []

    class Counting(seed_bulk.tqdm):
        def update(self, n=1):
            updates.append(n)
            return super().update(n)

    monkeypatch.setattr(seed_bulk, "tqdm", Counting)

    call_command(
        "seed_bulk", "--products", "25", "--stores", "1", "--batch-size", "10", stdout=StringIO(), stderr=Terminal()
    )

    assert updates == [10, 10, 5]
