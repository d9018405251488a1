"""Every existing product gets one variant without options holding its price and stock (round 1's
products are sold in one form); its sku is made from the product's slug."""

from django.db import migrations

BATCH = 5000


def sku_for(slug: str, pk: int, taken: set) -> str:
    sku = slug[:64]
    if sku in taken:
        sku = f"{slug[: 63 - len(str(pk))]}-{pk}"
    taken.add(sku)
    return sku


def add_default_variants(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    Variant = apps.get_model("catalog", "Variant")
    taken: dict[int, set] = {}
    last = 0
    while True:
        rows = list(
            Product.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "store_id", "slug", "price", "stock")[:BATCH]
        )
        if not rows:
            return
        Variant.objects.bulk_create(
            Variant(
                product_id=pk,
                store_id=store_id,
                sku=sku_for(slug, pk, taken.setdefault(store_id, set())),
                options={},
                options_key="[]",
                price=price,
                stock=stock,
                is_active=True,
            )
            for pk, store_id, slug, price, stock in rows
        )
        last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_variants")]

    operations = [migrations.RunPython(add_default_variants, migrations.RunPython.noop, elidable=False)]
