"""GET /seller/stats/: a seller's paid store orders per UTC day and in total, and its top products."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.catalog.tests.factories import ProductFactory
from apps.checkout.services import checkout_cancel
from apps.orders.models import Order, OrderStatus, StoreOrder
from apps.orders.services import order_place
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payouts.tests.factories import refund, sell

pytestmark = pytest.mark.django_db

STATS = "/api/v1/seller/stats/"
ZEROS = {"orders": 0, "units": 0, "gross": "0.00", "refunds": "0.00", "commission": "0.00", "net": "0.00"}


def paid_on(order: Order, at: datetime) -> Order:
    """Move the order's payment to ``at`` (the stats count it on that UTC day)."""
    Order.objects.filter(pk=order.pk).update(paid_at=at)
    return order


def at(day: str, clock: str = "12:00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)


def stats(client, first: str, last: str) -> dict:
    response = client.get(STATS, {"from": first, "to": last})
    assert response.status_code == 200, response.json()
    return response.json()


def figures(body: dict) -> dict:
    return {day["date"]: {k: v for k, v in day.items() if k != "date"} for day in body["days"]}


# --- who may ask ---------------------------------------------------------------------------------


def test_anonymous_is_401_and_a_buyer_403(client_for, buyer):
    assert client_for(None).get(STATS, {"from": "2026-01-01", "to": "2026-01-02"}).status_code == 401
    response = client_for(buyer).get(STATS, {"from": "2026-01-01", "to": "2026-01-02"})
    assert (response.status_code, response.json()["code"]) == (403, "not_a_seller")


# --- the range -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"to": "2026-01-02"}, "from"),
        ({"from": "2026-01-02"}, "to"),
        ({}, "from"),
        ({"from": "2026-02-30", "to": "2026-03-02"}, "from"),
        ({"from": "2026-01-01", "to": "tomorrow"}, "to"),
        ({"from": "2026-01-03", "to": "2026-01-02"}, "from"),
        ({"from": "2024-01-01", "to": "2025-01-01"}, "to"),  # 367 days
    ],
)
def test_a_bad_range_is_400_naming_the_field(client_for, store, query, field):
    response = client_for(store.owner).get(STATS, query)

    assert response.status_code == 400
    assert field in response.json()


def test_366_days_both_ends_included_are_allowed(client_for, store):
    body = stats(client_for(store.owner), "2024-01-01", "2024-12-31")  # a leap year

    assert len(body["days"]) == 366
    assert (body["days"][0]["date"], body["days"][-1]["date"]) == ("2024-01-01", "2024-12-31")


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_the_first_and_last_days_of_the_calendar_are_plain_days(client_for, store, day):
    assert figures(stats(client_for(store.owner), day, day)) == {day: ZEROS}


def test_from_equal_to_is_one_day(client_for, store, mug):
    paid_on(sell((mug, 1)), at("2026-03-10"))

    body = stats(client_for(store.owner), "2026-03-10", "2026-03-10")

    assert [day["date"] for day in body["days"]] == ["2026-03-10"]
    assert body["totals"]["orders"] == 1


# --- what is counted -----------------------------------------------------------------------------


def test_every_day_is_listed_with_its_figures_and_the_totals_add_them(client_for, store, mug, settings):
    settings.SHIPPING_FLAT_RATE = Decimal("4.50")
    paid_on(sell((mug, 2)), at("2026-03-01"))  # 25.00 + 4.50 shipping, 2.50 commission
    paid_on(sell((mug, 1)), at("2026-03-03", "00:00:00"))  # 12.50 + 4.50, 1.25
    paid_on(sell((mug, 3)), at("2026-03-03", "23:59:59"))  # 37.50 + 4.50, 3.75

    body = stats(client_for(store.owner), "2026-03-01", "2026-03-04")

    assert body["currency"] == "USD"
    assert figures(body) == {
        "2026-03-01": {
            "orders": 1,
            "units": 2,
            "gross": "29.50",
            "refunds": "0.00",
            "commission": "2.50",
            "net": "27.00",
        },
        "2026-03-02": ZEROS,
        "2026-03-03": {
            "orders": 2,
            "units": 4,
            "gross": "59.00",
            "refunds": "0.00",
            "commission": "5.00",
            "net": "54.00",
        },
        "2026-03-04": ZEROS,
    }
    assert body["totals"] == {
        "orders": 3,
        "units": 6,
        "gross": "88.50",
        "refunds": "0.00",
        "commission": "7.50",
        "net": "81.00",
    }


def test_orders_are_counted_on_the_utc_day_they_were_paid_and_outside_the_range_never(client_for, store, mug):
    today = timezone.now().date()
    sell((mug, 1))  # paid now, by the real payment: today
    paid_on(sell((mug, 1)), at("2026-03-01", "23:59:59"))
    paid_on(sell((mug, 1)), at("2026-03-02", "00:00:00"))
    paid_on(sell((mug, 1)), at("2026-02-28", "23:59:59"))

    assert [day["orders"] for day in stats(client_for(store.owner), "2026-03-01", "2026-03-02")["days"]] == [1, 1]
    assert stats(client_for(store.owner), today.isoformat(), today.isoformat())["totals"]["orders"] == 1


def test_another_stores_orders_are_never_counted(client_for, store, mug):
    other = ProductFactory(price=Decimal("40.00"))
    paid_on(sell((other, 1)), at("2026-03-01"))
    mixed = paid_on(sell((mug, 1), (other, 2)), at("2026-03-01"))
    assert mixed.store_orders.count() == 2

    body = stats(client_for(store.owner), "2026-03-01", "2026-03-01")

    assert body["totals"] == {
        "orders": 1,
        "units": 1,
        "gross": "12.50",
        "refunds": "0.00",
        "commission": "1.25",
        "net": "11.25",
    }
    assert [product["slug"] for product in body["top_products"]] == [mug.slug]


def test_orders_never_paid_are_not_counted_cancelled_or_pending(client_for, store, mug):
    buyer = UserFactory()
    fill_cart(buyer, (mug, 1))
    cancelled = checkout_cancel(order=order_place(buyer=buyer, shipping_address=ADDRESS), actor=buyer)
    fill_cart(buyer, (mug, 2))
    pending = order_place(buyer=buyer, shipping_address=ADDRESS)
    assert (cancelled.status, pending.status) == (OrderStatus.CANCELLED, OrderStatus.PENDING_PAYMENT)
    today = timezone.now().date().isoformat()

    body = stats(client_for(store.owner), today, today)

    assert body["totals"] == ZEROS
    assert body["top_products"] == []


def test_a_refund_lowers_net_and_returns_commission(client_for, store, mug):
    order = sell((mug, 2))  # 25.00, commission 2.50
    refund(order, "12.50")  # one mug, which returns 1.25 of commission
    today = timezone.now().date().isoformat()
    store_order = StoreOrder.objects.get(order=order)
    assert (store_order.refunded_items, store_order.refunded_commission) == (Decimal("12.50"), Decimal("1.25"))

    totals = stats(client_for(store.owner), today, today)["totals"]

    assert totals == {
        "orders": 1,
        "units": 2,
        "gross": "25.00",
        "refunds": "12.50",
        "commission": "1.25",
        "net": "11.25",
    }


def test_top_products_are_ten_at_most_by_units_then_gross_then_slug(client_for, store):
    products = [
        ProductFactory(store=store, slug=f"p{n:02d}", name=f"P{n}", price=Decimal("10.00"), stock=50) for n in range(12)
    ]
    dear = ProductFactory(store=store, slug="z-dear", name="Dear", price=Decimal("30.00"), stock=50)
    # p00 sells 12 units, p01 11, ..., p11 1; "z-dear" 10 units like p02 but more gross; p03 and a
    # twin "a-twin" tie on units and gross: the slug decides.
    twin = ProductFactory(store=store, slug="a-twin", name="Twin", price=Decimal("10.00"), stock=50)
    sell(*[(product, 12 - n) for n, product in enumerate(products)], (dear, 10), (twin, 9))
    today = timezone.now().date().isoformat()

    top = stats(client_for(store.owner), today, today)["top_products"]

    assert [(product["slug"], product["units"], product["gross"]) for product in top] == [
        ("p00", 12, "120.00"),
        ("p01", 11, "110.00"),
        ("z-dear", 10, "300.00"),
        ("p02", 10, "100.00"),
        ("a-twin", 9, "90.00"),
        ("p03", 9, "90.00"),
        ("p04", 8, "80.00"),
        ("p05", 7, "70.00"),
        ("p06", 6, "60.00"),
        ("p07", 5, "50.00"),
    ]
    assert top[0]["name"] == "P0"


# --- statements ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "last"), [("2026-03-01", "2026-03-01"), ("2025-03-03", "2026-03-03")])
def test_at_most_four_statements_whatever_the_range(client_for, store, mug, django_assert_max_num_queries, first, last):
    other = ProductFactory(store=store, stock=50)
    for n in range(3):
        paid_on(sell((mug, 1), (other, 2)), at("2026-03-01") - timedelta(days=n * 100))
    client = client_for(store.owner)

    with django_assert_max_num_queries(4):
        body = stats(client, first, last)

    assert len(body["days"]) == (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
    assert body["totals"]["orders"] >= 1


# --- schema --------------------------------------------------------------------------------------


def test_the_schema_documents_the_query_and_the_answer(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    schema = yaml.safe_load(path.read_text())

    operation = schema["paths"]["/api/v1/seller/stats/"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert {name: (p["in"], p["required"], p["schema"]["format"]) for name, p in parameters.items()} == {
        "from": ("query", True, "date"),
        "to": ("query", True, "date"),
    }
    answer = schema["components"]["schemas"]["StatsOutput"]
    assert set(answer["properties"]) == {"currency", "totals", "days", "top_products"}
