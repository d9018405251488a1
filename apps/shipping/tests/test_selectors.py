"""shipping_options: what each store of a cart can ship with, and at what price (the orders'
checkout calls it directly; the cart's /cart/shipping-options/ shows it)."""

from decimal import Decimal

import pytest

from apps.accounts.tests.factories import StoreFactory
from apps.shipping.selectors import ShippingOption, shipping_options
from apps.shipping.tests.factories import ShippingRateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _flat_rate(settings):
    settings.SHIPPING_FLAT_RATE = Decimal("3.00")


def test_a_store_with_no_active_rate_ships_at_the_flat_rate():
    bare, switched_off = StoreFactory(), StoreFactory()
    ShippingRateFactory(store=switched_off, is_active=False)

    options = shipping_options(store_subtotals={bare.pk: Decimal("10"), switched_off.pk: Decimal("10")}, country="US")

    flat = [ShippingOption(id=None, name="Standard", price=Decimal("3.00"), min_days=None, max_days=None)]
    assert options == {bare.pk: flat, switched_off.pk: flat}


def test_options_ship_where_their_countries_say_cheapest_then_fastest_first():
    store = StoreFactory()
    slow = ShippingRateFactory(store=store, name="Slow", price=Decimal("5.00"), max_days=9)
    fast = ShippingRateFactory(store=store, name="Fast", price=Decimal("5.00"), min_days=1, max_days=2)
    cheap_us = ShippingRateFactory(store=store, name="US only", price=Decimal("1.00"), countries=["US"])
    ShippingRateFactory(store=store, name="Off", price=Decimal("0.50"), is_active=False)

    to_us = shipping_options(store_subtotals={store.pk: Decimal("10")}, country="us")
    to_de = shipping_options(store_subtotals={store.pk: Decimal("10")}, country="DE")

    assert [option.id for option in to_us[store.pk]] == [cheap_us.pk, fast.pk, slow.pk]
    assert [option.id for option in to_de[store.pk]] == [fast.pk, slow.pk]


def test_a_store_whose_rates_do_not_ship_there_has_no_option():
    store = StoreFactory()
    ShippingRateFactory(store=store, countries=["US", "CA"])

    assert shipping_options(store_subtotals={store.pk: Decimal("10")}, country="FR") == {store.pk: []}


def test_free_over_applies_from_the_stores_subtotal_on():
    store = StoreFactory()
    rate = ShippingRateFactory(store=store, price=Decimal("6.00"), free_over=Decimal("50.00"))

    below = shipping_options(store_subtotals={store.pk: Decimal("49.99")}, country="US")[store.pk]
    at = shipping_options(store_subtotals={store.pk: Decimal("50.00")}, country="US")[store.pk]

    assert below == [ShippingOption(id=rate.pk, name=rate.name, price=Decimal("6.00"), min_days=2, max_days=5)]
    assert at[0].price == Decimal("0.00")


def test_every_store_in_one_query(django_assert_num_queries):
    stores = StoreFactory.create_batch(3)
    for store in stores:
        ShippingRateFactory.create_batch(2, store=store)

    with django_assert_num_queries(1):
        options = shipping_options(store_subtotals={store.pk: Decimal("1") for store in stores}, country="US")

    assert [len(options[store.pk]) for store in stores] == [2, 2, 2]


def test_the_snapshot_keeps_name_and_days():
    option = ShippingOption(id=7, name="Express", price=Decimal("9.00"), min_days=1, max_days=2)

    assert option.snapshot() == {"name": "Express", "min_days": 1, "max_days": 2}
