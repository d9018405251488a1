"""Variants in orders, store orders and shipping choice at checkout, through the API (API.md,
Round 2: "Variants", stock bullet, and "Store orders and shipping rates")."""

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.accounts.services import store_commission_set
from apps.accounts.tests.factories import AddressFactory, StoreFactory, UserFactory
from apps.cart.models import CartItem
from apps.catalog.exceptions import OutOfStock
from apps.catalog.models import Product, Variant
from apps.catalog.stock import products_refresh
from apps.catalog.tests.factories import ProductFactory, VariantFactory
from apps.orders import services
from apps.orders.models import LineStatus, Order, StoreOrder, StoreOrderStatus
from apps.orders.services import orders_expire
from apps.orders.tests.factories import ADDRESS, fill_cart, fill_cart_variants
from apps.shipping.models import ShippingRate

pytestmark = pytest.mark.django_db

SIZES = [{"name": "Size", "values": ["S", "M"]}]


def shirt(*, store=None, small=(Decimal("10.00"), 5), medium=(Decimal("12.00"), 5)):
    """A product with options: size S and M variants at the given (price, stock)."""
    product = ProductFactory(options=SIZES, default_variant=False, **({"store": store} if store else {}))
    s = VariantFactory(product=product, sku=f"{product.slug}-s", options={"Size": "S"}, price=small[0], stock=small[1])
    m = VariantFactory(
        product=product, sku=f"{product.slug}-m", options={"Size": "M"}, price=medium[0], stock=medium[1]
    )
    products_refresh(product_ids=[product.pk])
    return product, s, m


def rate(store, **fields):
    values = {"name": "Standard", "price": Decimal("5.00"), "min_days": 2, "max_days": 5, **fields}
    return ShippingRate.objects.create(store=store, **values)


def checkout(client, **body):
    return client.post("/api/v1/checkout/", {"shipping_address": ADDRESS, **body}, format="json")


def stock_of(*variants) -> list[int]:
    return [Variant.objects.get(pk=variant.pk).stock for variant in variants]


# --- lines per variant ---------------------------------------------------------------------------


def test_lines_are_per_variant_and_snapshot_sku_options_and_price(buyer, buyer_client):
    product, small, medium = shirt(small=(Decimal("10.00"), 5), medium=(Decimal("12.00"), 4))
    fill_cart_variants(buyer, (medium, 1), (small, 2))

    response = checkout(buyer_client)

    assert response.status_code == 201
    items = response.json()["items"]
    assert [(i["variant_sku"], i["variant_options"], i["unit_price"], i["quantity"]) for i in items] == [
        (small.sku, {"Size": "S"}, "10.00", 2),
        (medium.sku, {"Size": "M"}, "12.00", 1),
    ]
    assert all(isinstance(item["id"], int) for item in items)
    assert response.json()["subtotal"] == "32.00"
    assert stock_of(small, medium) == [3, 3]
    assert Product.objects.get(pk=product.pk).stock == 6  # derived: the sum of the variants

    Variant.objects.filter(pk=small.pk).update(sku="renamed", price=Decimal("99.00"), options={"Size": "XS"})
    item = buyer_client.get(f"/api/v1/orders/{response.json()['number']}/").json()["items"][0]
    assert (item["variant_sku"], item["variant_options"], item["unit_price"]) == (small.sku, {"Size": "S"}, "10.00")


def test_a_short_variant_is_409_listing_it_while_another_variant_has_stock(buyer, buyer_client):
    product, small, medium = shirt(small=(Decimal("10.00"), 1), medium=(Decimal("12.00"), 9))
    fill_cart_variants(buyer, (small, 2), (medium, 1))

    response = checkout(buyer_client)

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert response.json()["products"] == [
        {"product": product.slug, "variant": small.sku, "requested": 2, "available": 1}
    ]
    assert stock_of(small, medium) == [1, 9]
    assert not Order.objects.exists()
    assert CartItem.objects.filter(cart__user=buyer).count() == 2


def test_an_inactive_variant_is_not_for_sale(buyer, buyer_client):
    product, small, medium = shirt()
    fill_cart_variants(buyer, (small, 1))
    Variant.objects.filter(pk=small.pk).update(is_active=False)

    response = checkout(buyer_client)

    assert response.status_code == 409
    assert response.json()["products"] == [
        {"product": product.slug, "variant": small.sku, "requested": 1, "available": 0}
    ]
    assert stock_of(small, medium) == [5, 5]


def test_cancel_returns_stock_per_variant_and_cancels_the_store_orders(buyer, buyer_client):
    product, small, medium = shirt(small=(Decimal("10.00"), 5), medium=(Decimal("12.00"), 5))
    fill_cart_variants(buyer, (small, 2), (medium, 1))
    number = checkout(buyer_client).json()["number"]
    assert Product.objects.get(pk=product.pk).stock == 7

    response = buyer_client.post(f"/api/v1/orders/{number}/cancel/")

    assert response.status_code == 200
    assert stock_of(small, medium) == [5, 5]
    assert Product.objects.get(pk=product.pk).stock == 10
    assert [part["status"] for part in response.json()["stores"]] == ["cancelled"]
    assert {item["status"] for item in response.json()["items"]} == {"cancelled"}


def test_expiry_returns_stock_per_variant(buyer, buyer_client, settings):
    product, small, medium = shirt(small=(Decimal("10.00"), 5), medium=(Decimal("12.00"), 5))
    fill_cart_variants(buyer, (small, 2), (medium, 3))
    number = checkout(buyer_client).json()["number"]

    orders_expire(now=timezone.now() + timezone.timedelta(minutes=settings.ORDER_RESERVATION_MINUTES + 1))

    assert stock_of(small, medium) == [5, 5]
    assert Product.objects.get(pk=product.pk).stock == 10
    assert StoreOrder.objects.get(order__number=number).status == StoreOrderStatus.CANCELLED


# --- store orders and shipping choice ------------------------------------------------------------


def test_stores_without_rates_ship_at_the_flat_rate_as_in_round_one(buyer, buyer_client, settings):
    settings.SHIPPING_FLAT_RATE = Decimal("4.50")
    first, second = ProductFactory(price=Decimal("10.00")), ProductFactory(price=Decimal("3.00"))
    fill_cart(buyer, (first, 2), (second, 1))

    body = checkout(buyer_client).json()

    assert (body["subtotal"], body["shipping"], body["total"]) == ("23.00", "9.00", "32.00")
    assert body["stores"] == [
        {
            "store": {"slug": first.store.slug, "name": first.store.name},
            "status": "pending",
            "subtotal": "20.00",
            "shipping": "4.50",
            "total": "24.50",
            "shipping_method": {"name": "Standard", "min_days": None, "max_days": None},
            "carrier": "",
            "tracking_number": "",
            "refunded_items": "0.00",
            "refunded_shipping": "0.00",
            "refunded_total": "0.00",
            "shipped_at": None,
            "delivered_at": None,
        },
        {
            "store": {"slug": second.store.slug, "name": second.store.name},
            "status": "pending",
            "subtotal": "3.00",
            "shipping": "4.50",
            "total": "7.50",
            "shipping_method": {"name": "Standard", "min_days": None, "max_days": None},
            "carrier": "",
            "tracking_number": "",
            "refunded_items": "0.00",
            "refunded_shipping": "0.00",
            "refunded_total": "0.00",
            "shipped_at": None,
            "delivered_at": None,
        },
    ]


def test_a_store_left_out_ships_with_its_cheapest_rate(buyer, buyer_client, settings):
    settings.SHIPPING_FLAT_RATE = Decimal("4.50")
    product = ProductFactory(price=Decimal("10.00"))
    rate(product.store, name="Express", price=Decimal("9.00"), min_days=1, max_days=1)
    cheap = rate(product.store, name="Economy", price=Decimal("3.00"), min_days=5, max_days=9)
    fill_cart(buyer, (product, 1))

    body = checkout(buyer_client).json()

    assert (body["shipping"], body["total"]) == ("3.00", "13.00")
    assert body["stores"][0]["shipping_method"] == {"name": "Economy", "min_days": 5, "max_days": 9}
    assert StoreOrder.objects.get().shipping_rate_id == cheap.pk


def test_the_rate_named_for_a_store_is_used_and_null_means_its_cheapest(buyer, buyer_client):
    first, second = ProductFactory(price=Decimal("10.00")), ProductFactory(price=Decimal("10.00"))
    express = rate(first.store, name="Express", price=Decimal("9.00"), min_days=1, max_days=1)
    rate(first.store, name="Economy", price=Decimal("3.00"))
    rate(second.store, name="Post", price=Decimal("2.00"))
    fill_cart(buyer, (first, 1), (second, 1))

    body = checkout(buyer_client, shipping_rates={first.store.slug: express.pk, second.store.slug: None}).json()

    assert [(part["store"]["slug"], part["shipping"]) for part in body["stores"]] == [
        (first.store.slug, "9.00"),
        (second.store.slug, "2.00"),
    ]
    assert body["shipping"] == "11.00"
    assert body["total"] == "31.00"


@pytest.mark.parametrize(("subtotal_units", "shipping"), [(2, "0.00"), (1, "6.00")])
def test_a_rate_is_free_from_its_free_over_subtotal(buyer, buyer_client, subtotal_units, shipping):
    product = ProductFactory(price=Decimal("10.00"))
    rate(product.store, price=Decimal("6.00"), free_over=Decimal("20.00"))
    fill_cart(buyer, (product, subtotal_units))

    body = checkout(buyer_client).json()

    assert body["stores"][0]["shipping"] == shipping
    assert body["shipping"] == shipping


def test_the_country_comes_from_the_saved_address(buyer, buyer_client):
    product = ProductFactory(price=Decimal("10.00"))
    rate(product.store, name="Domestic", price=Decimal("1.00"), countries=["US"])
    german = rate(product.store, name="Germany", price=Decimal("7.00"), countries=["DE"])
    address = AddressFactory(user=buyer, country="DE")
    fill_cart(buyer, (product, 1))

    response = buyer_client.post("/api/v1/checkout/", {"address_id": address.pk}, format="json")

    assert response.status_code == 201
    assert response.json()["shipping"] == "7.00"
    assert StoreOrder.objects.get().shipping_rate_id == german.pk


BAD_CHOICES = ["another_store", "inactive", "elsewhere", "unknown_slug", "not_an_id", "zero"]


@pytest.mark.parametrize("case", BAD_CHOICES)
def test_a_shipping_rate_that_is_not_the_stores_option_there_is_400(buyer, buyer_client, case):
    product = ProductFactory(price=Decimal("10.00"), stock=4)
    rate(product.store, name="Post", price=Decimal("2.00"))
    choice = {
        "another_store": {product.store.slug: rate(StoreFactory(), price=Decimal("1.00")).pk},
        "inactive": {product.store.slug: rate(product.store, price=Decimal("1.00"), is_active=False).pk},
        "elsewhere": {product.store.slug: rate(product.store, price=Decimal("1.00"), countries=["FR"]).pk},
        "unknown_slug": {"no-such-store": None},
        "not_an_id": {product.store.slug: "fast"},
        "zero": {product.store.slug: 0},
    }[case]
    fill_cart(buyer, (product, 1))

    response = checkout(buyer_client, shipping_rates=choice)

    assert response.status_code == 400
    assert list(response.json()) == ["shipping_rates"]
    assert not Order.objects.exists()
    assert Variant.objects.get(product=product).stock == 4
    assert CartItem.objects.filter(cart__user=buyer).count() == 1


def test_a_store_whose_rates_do_not_ship_there_is_409_no_shipping_rate(buyer, buyer_client):
    fine, far = ProductFactory(stock=3), ProductFactory(stock=3)
    rate(far.store, countries=["DE", "FR"])
    rate(far.store, countries=["US"], is_active=False)  # an inactive rate ships nowhere
    fill_cart(buyer, (fine, 1), (far, 1))

    response = checkout(buyer_client)

    assert response.status_code == 409
    assert response.json()["code"] == "no_shipping_rate"
    assert response.json()["stores"] == [far.store.slug]
    assert [Variant.objects.get(product=p).stock for p in (fine, far)] == [3, 3]
    assert not Order.objects.exists()


def test_the_shipping_choice_is_a_snapshot_that_rate_edits_and_deletion_do_not_change(buyer, buyer_client):
    product = ProductFactory(price=Decimal("10.00"))
    chosen = rate(product.store, name="Courier", price=Decimal("4.00"), min_days=1, max_days=2)
    fill_cart(buyer, (product, 1))
    number = checkout(buyer_client).json()["number"]

    ShippingRate.objects.filter(pk=chosen.pk).update(name="Renamed", price=Decimal("40.00"), min_days=9, max_days=9)
    edited = buyer_client.get(f"/api/v1/orders/{number}/").json()
    ShippingRate.objects.filter(pk=chosen.pk).delete()
    deleted = buyer_client.get(f"/api/v1/orders/{number}/").json()

    for body in (edited, deleted):
        assert body["stores"][0]["shipping_method"] == {"name": "Courier", "min_days": 1, "max_days": 2}
        assert (body["stores"][0]["shipping"], body["shipping"], body["total"]) == ("4.00", "4.00", "14.00")
    assert StoreOrder.objects.get().shipping_rate_id is None


def test_the_shipping_choice_is_part_of_the_body_an_idempotency_key_binds(buyer, buyer_client):
    product = ProductFactory(price=Decimal("10.00"))
    express = rate(product.store, name="Express", price=Decimal("9.00"))
    fill_cart(buyer, (product, 1))
    first = buyer_client.post(
        "/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == 201

    other = buyer_client.post(
        "/api/v1/checkout/",
        {"shipping_address": ADDRESS, "shipping_rates": {product.store.slug: express.pk}},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )

    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_conflict"
    assert Order.objects.count() == 1


def test_commission_is_snapshotted_per_store_order_rounded_half_up(buyer, buyer_client, settings):
    settings.COMMISSION_RATE = Decimal("10.00")
    product = ProductFactory(price=Decimal("15.05"))
    rate(product.store, price=Decimal("2.00"))
    fill_cart(buyer, (product, 1))
    number = checkout(buyer_client).json()["number"]
    settings.COMMISSION_RATE = Decimal("20.00")  # a later change touches no order

    part = StoreOrder.objects.get(order__number=number)

    assert (part.commission_rate, part.commission, part.seller_net) == (
        Decimal("10.00"),
        Decimal("1.51"),  # 1.505 half up, where half-even would say 1.50
        Decimal("15.54"),
    )


def test_a_stores_commission_override_is_snapshotted_and_others_keep_the_default(buyer, buyer_client, settings):
    settings.COMMISSION_RATE = Decimal("10.00")
    staff = UserFactory(is_staff=True)
    special, plain = ProductFactory(price=Decimal("10.05")), ProductFactory(price=Decimal("10.05"))
    store_commission_set(store=special.store, rate=Decimal("12.50"), actor=staff)
    fill_cart(buyer, (special, 1), (plain, 1))
    number = checkout(buyer_client).json()["number"]

    parts = {part.store_id: part for part in StoreOrder.objects.filter(order__number=number)}

    assert (parts[special.store_id].commission_rate, parts[special.store_id].commission) == (
        Decimal("12.50"),
        Decimal("1.26"),  # 1.25625 half up
    )
    assert (parts[plain.store_id].commission_rate, parts[plain.store_id].commission) == (
        Decimal("10.00"),
        Decimal("1.01"),  # 1.005 half up
    )


def test_orders_placed_before_a_commission_change_keep_their_snapshot(buyer, buyer_client, settings):
    settings.COMMISSION_RATE = Decimal("10.00")
    staff = UserFactory(is_staff=True)
    product = ProductFactory(price=Decimal("20.00"), stock=5)
    store_commission_set(store=product.store, rate=Decimal("12.50"), actor=staff)
    fill_cart(buyer, (product, 1))
    before = checkout(buyer_client).json()["number"]

    store_commission_set(store=product.store, rate=None, actor=staff)  # cleared: the default again
    fill_cart(buyer, (product, 1))
    after = checkout(buyer_client).json()["number"]

    snapshot = dict(StoreOrder.objects.values_list("order__number", "commission_rate"))
    assert snapshot == {before: Decimal("12.50"), after: Decimal("10.00")}
    assert StoreOrder.objects.get(order__number=before).commission == Decimal("2.50")


# --- fulfilment per store order ------------------------------------------------------------------


def _paid_two_store_order(buyer, buyer_client):
    first, second = ProductFactory(price=Decimal("10.00")), ProductFactory(price=Decimal("5.00"))
    fill_cart(buyer, (first, 1), (second, 2))
    body = checkout(buyer_client, payment_method="pm_card_visa").json()
    assert body["status"] == "paid"
    return body["number"], first.store.owner, second.store.owner


def test_each_seller_ships_its_store_order_then_the_buyer_confirms_delivery(buyer, buyer_client, client_for):
    number, first, second = _paid_two_store_order(buyer, buyer_client)

    shipped = client_for(first).post(
        f"/api/v1/seller/orders/{number}/ship/", {"carrier": "DHL", "tracking_number": "T-1"}, format="json"
    )

    assert shipped.status_code == 200
    assert shipped.json()["status"] == "partially_shipped"
    assert shipped.json()["store_order"]["status"] == "shipped"
    assert (shipped.json()["store_order"]["carrier"], shipped.json()["store_order"]["tracking_number"]) == (
        "DHL",
        "T-1",
    )
    parts = {part["store"]["slug"]: part for part in buyer_client.get(f"/api/v1/orders/{number}/").json()["stores"]}
    assert parts[first.store.slug]["status"] == "shipped"
    assert parts[first.store.slug]["shipped_at"] is not None
    assert parts[second.store.slug]["status"] == "pending"
    assert parts[second.store.slug]["shipped_at"] is None

    again = client_for(first).post(f"/api/v1/seller/orders/{number}/ship/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"

    assert client_for(second).post(f"/api/v1/seller/orders/{number}/ship/", {}, format="json").json()["status"] == (
        "shipped"
    )
    delivered = buyer_client.post(f"/api/v1/orders/{number}/confirm-delivery/").json()
    assert delivered["status"] == "delivered"
    assert {part["status"] for part in delivered["stores"]} == {"delivered"}
    assert all(part["delivered_at"] is not None for part in delivered["stores"])
    assert {item["status"] for item in delivered["items"]} == {LineStatus.DELIVERED}


def test_an_unpaid_order_cannot_be_shipped_and_its_store_order_stays_pending(buyer, buyer_client, client_for):
    product = ProductFactory()
    fill_cart(buyer, (product, 1))
    number = checkout(buyer_client).json()["number"]

    response = client_for(product.store.owner).post(f"/api/v1/seller/orders/{number}/ship/", {}, format="json")

    assert response.status_code == 409
    assert StoreOrder.objects.get().status == StoreOrderStatus.PENDING


def test_the_seller_detail_shows_only_its_store_order_and_another_seller_gets_404(
    buyer, buyer_client, client_for, settings
):
    settings.SHIPPING_FLAT_RATE = Decimal("4.50")
    number, _, second = _paid_two_store_order(buyer, buyer_client)

    body = client_for(second).get(f"/api/v1/seller/orders/{number}/").json()

    assert body["number"] == number
    assert body["status"] == "paid"
    assert [(item["product_slug"], item["quantity"]) for item in body["items"]] == [
        (Product.objects.get(store=second.store).slug, 2)
    ]
    assert isinstance(body["items"][0]["id"], int)
    assert body["shipping_address"]["city"] == ADDRESS["city"]
    assert body["store_order"] == {
        "status": "pending",
        "subtotal": "10.00",
        "shipping": "4.50",
        "total": "14.50",
        "shipping_method": {"name": "Standard", "min_days": None, "max_days": None},
        "carrier": "",
        "tracking_number": "",
        "commission_rate": "10.00",
        "commission": "1.00",
        "seller_net": "13.50",
        "refunded_items": "0.00",
        "refunded_shipping": "0.00",
        "refunded_total": "0.00",
        "refunded_commission": "0.00",
    }
    stranger = StoreFactory().owner
    assert client_for(stranger).get(f"/api/v1/seller/orders/{number}/").status_code == 404
    assert client_for(stranger).post(f"/api/v1/seller/orders/{number}/ship/", {}, format="json").status_code == 404
    assert client_for(second).get("/api/v1/seller/orders/NOSUCHORDER1/").status_code == 404
    assert buyer_client.get(f"/api/v1/seller/orders/{number}/").status_code == 403


def test_the_seller_list_shows_store_orders_newest_first_in_constant_queries(client_for, django_assert_max_num_queries):
    store = StoreFactory()
    seller_client = client_for(store.owner)
    numbers = []
    for _ in range(3):
        buyer = UserFactory()
        fill_cart(buyer, (ProductFactory(store=store), 1), (ProductFactory(), 1))
        numbers.append(checkout(client_for(buyer)).json()["number"])

    with django_assert_max_num_queries(5):
        small = seller_client.get("/api/v1/seller/orders/?page_size=1").json()
    with django_assert_max_num_queries(5):
        full = seller_client.get("/api/v1/seller/orders/?page_size=100").json()

    assert full["count"] == 3
    assert [order["number"] for order in full["results"]] == numbers[::-1]
    assert small["results"][0]["number"] == numbers[-1]
    assert all(len(order["items"]) == 1 for order in full["results"])
    assert all(order["store_order"]["status"] == "pending" for order in full["results"])


def test_stock_sold_between_the_check_and_the_take_moves_nothing(buyer, monkeypatch):
    """Without row locks (SQLite), another checkout can take a unit after the check: the one
    conditional statement then takes nothing at all, not the lines that still had stock."""
    _, small, medium = shirt(small=(Decimal("10.00"), 1), medium=(Decimal("12.00"), 5))
    fill_cart_variants(buyer, (small, 2), (medium, 1))
    real_lock = services.lock_variants

    def read_before_the_other_sale(*, ids):
        locked = real_lock(ids=ids)
        locked[small.pk].stock = 2  # what an unlocked read saw before another checkout took a unit
        return locked

    monkeypatch.setattr(services, "lock_variants", read_before_the_other_sale)

    with pytest.raises(OutOfStock) as raised:
        services.order_place(buyer=buyer, shipping_address=ADDRESS)

    assert raised.value.extra["products"] == [
        {"product": small.product.slug, "variant": small.sku, "requested": 2, "available": 1}
    ]
    assert stock_of(small, medium) == [1, 5]
    assert not Order.objects.exists()
