"""Round 2's data migrations on round-1 data (catalog 0006-0007, cart 0002-0003, orders 0003-0004):
every product gets one variant with its price and stock, cart lines and order lines point at it,
every order gets one store order per store. Runs on SQLite and on PostgreSQL (no ``postgres``
marker): PostgreSQL is where deferred foreign-key checks and ALTER TABLE meet."""

from datetime import UTC, datetime
from decimal import Decimal

BEFORE = [("catalog", "0005_search_name_prefixes"), ("cart", "0001_initial"), ("orders", "0002_checkout_request_hash")]
AFTER = [("catalog", "0007_default_variants"), ("cart", "0003_variant_required"), ("orders", "0004_lines_required")]
SHIPPED_AT = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def _round_one_data(apps) -> dict:
    User = apps.get_model("accounts", "User")
    Store = apps.get_model("accounts", "Store")
    Category = apps.get_model("catalog", "Category")
    Product = apps.get_model("catalog", "Product")
    Cart = apps.get_model("cart", "Cart")
    CartItem = apps.get_model("cart", "CartItem")
    Order = apps.get_model("orders", "Order")
    OrderLine = apps.get_model("orders", "OrderLine")

    buyer = User.objects.create(email="buyer@example.com", password="!")
    stores = [
        Store.objects.create(
            owner=User.objects.create(email=f"seller{n}@example.com", password="!", is_seller=True),
            name=f"Store {n}",
            slug=f"store-{n}",
        )
        for n in (1, 2)
    ]
    category = Category.objects.create(path="0001", depth=1, numchild=0, name="Tools", slug="tools")

    def product(store, name, price, stock):
        return Product.objects.create(
            store=store, category=category, name=name, slug=name.lower(), price=Decimal(price), stock=stock
        )

    hammer = product(stores[0], "Hammer", "12.50", 7)
    saw = product(stores[0], "Saw", "20.00", 3)
    mug = product(stores[1], "Mug", "8.00", 0)
    cart = Cart.objects.create(user=buyer)
    CartItem.objects.create(cart=cart, product=hammer, quantity=2)
    order = Order.objects.create(
        buyer=buyer,
        status="partially_shipped",
        currency="USD",
        subtotal=Decimal("53.00"),
        shipping=Decimal("5.00"),
        total=Decimal("58.00"),
        shipping_address={"country": "US"},
    )

    def line(product, quantity, **fields):
        return OrderLine.objects.create(
            order=order,
            product=product,
            store=product.store,
            product_name=product.name,
            product_slug=product.slug,
            store_name=product.store.name,
            store_slug=product.store.slug,
            unit_price=product.price,
            quantity=quantity,
            line_total=product.price * quantity,
            currency="USD",
            **fields,
        )

    line(hammer, 2)  # 25.00
    line(saw, 1)  # 20.00
    line(mug, 1, status="shipped", carrier="DHL", tracking_number="TRK-1", shipped_at=SHIPPED_AT)  # 8.00
    return {"products": (hammer.pk, saw.pk, mug.pk), "order": order.pk, "stores": [s.pk for s in stores]}


def test_round_one_data_moves_to_variants_and_store_orders(migrator):
    migrator.apply_initial_migration(BEFORE)
    # The plan apply_initial_migration runs is the project's plan cut after the last target, which
    # holds catalog 0006-0007 and cart 0002-0003 too: unapply them (a backwards-only plan).
    old = migrator.apply_tested_migration(BEFORE)
    made = _round_one_data(old.apps)

    new = migrator.apply_tested_migration(AFTER)

    Product = new.apps.get_model("catalog", "Product")
    Variant = new.apps.get_model("catalog", "Variant")
    CartItem = new.apps.get_model("cart", "CartItem")
    OrderLine = new.apps.get_model("orders", "OrderLine")
    StoreOrder = new.apps.get_model("orders", "StoreOrder")
    hammer_pk, saw_pk, mug_pk = made["products"]

    # One variant per product, without options, with its price, stock and a sku (its slug).
    variants = {v.product_id: v for v in Variant.objects.all()}
    assert len(variants) == Variant.objects.count() == 3
    assert [
        (variants[pk].sku, variants[pk].price, variants[pk].stock, variants[pk].options, variants[pk].is_active)
        for pk in (hammer_pk, saw_pk, mug_pk)
    ] == [
        ("hammer", Decimal("12.50"), 7, {}, True),
        ("saw", Decimal("20.00"), 3, {}, True),
        ("mug", Decimal("8.00"), 0, {}, True),
    ]
    assert all(
        v.options_key == "[]" and v.store_id == Product.objects.get(pk=v.product_id).store_id for v in variants.values()
    )

    # The cart line holds the hammer's variant.
    item = CartItem.objects.get()
    assert (item.variant_id, item.product_id, item.quantity) == (variants[hammer_pk].pk, hammer_pk, 2)

    # Order lines: their variant and its sku.
    lines = {line.product_id: line for line in OrderLine.objects.all()}
    assert {pk: (line.variant_id, line.variant_sku) for pk, line in lines.items()} == {
        pk: (variants[pk].pk, variants[pk].sku) for pk in (hammer_pk, saw_pk, mug_pk)
    }

    # One store order per store: subtotal of its lines, the shipping split, totals, status, carrier.
    first_store, second_store = made["stores"]
    store_orders = {so.store_id: so for so in StoreOrder.objects.filter(order_id=made["order"])}
    assert set(store_orders) == {first_store, second_store}
    tools, kitchen = store_orders[first_store], store_orders[second_store]
    assert (tools.subtotal, tools.shipping, tools.total, tools.status) == (
        Decimal("45.00"),
        Decimal("2.50"),
        Decimal("47.50"),
        "pending",
    )
    assert (kitchen.subtotal, kitchen.shipping, kitchen.total, kitchen.status) == (
        Decimal("8.00"),
        Decimal("2.50"),
        Decimal("10.50"),
        "shipped",
    )
    assert (kitchen.carrier, kitchen.tracking_number, kitchen.shipped_at) == ("DHL", "TRK-1", SHIPPED_AT)
    assert (tools.carrier, tools.tracking_number, tools.shipped_at) == ("", "", None)
    assert (tools.store_name, kitchen.store_slug) == ("Store 1", "store-2")
    assert tools.shipping_method["name"] == "Standard"
    assert (tools.commission_rate, tools.commission) == (Decimal("10.00"), Decimal("4.50"))
    assert sum(so.total for so in store_orders.values()) == Decimal("58.00")
    assert {line.store_order_id for line in lines.values() if line.store_id == first_store} == {tools.pk}
    assert lines[mug_pk].store_order_id == kitchen.pk
