"""GET /users/me/store/balance/ and /users/me/store/ledger/: what a seller sees of its money."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from apps.catalog.tests.factories import ProductFactory
from apps.ledger.models import LedgerEntry
from apps.ledger.selectors import store_balance
from apps.orders.models import Order, StoreOrder
from apps.payouts.services import payouts_release
from apps.payouts.tests.factories import connect, deliver, refund, released, sell

pytestmark = pytest.mark.django_db

BALANCE = "/api/v1/users/me/store/balance/"
LEDGER = "/api/v1/users/me/store/ledger/"


def balance_of(client) -> dict:
    response = client.get(BALANCE)
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_paid_order_is_pending_and_becomes_available_hold_days_after_delivery(client_for, store, mug):
    client = client_for(store.owner)
    order = sell((mug, 2))

    assert balance_of(client) == {
        "currency": "USD",
        "pending": "22.50",
        "available": "0.00",
        "transferred": "0.00",
        "account": {"status": "none", "payouts_enabled": False},
    }
    deliver(order)
    assert (balance_of(client)["pending"], balance_of(client)["available"]) == ("22.50", "0.00")

    hold = timedelta(days=settings.PAYOUT_HOLD_DAYS)
    StoreOrder.objects.filter(order=order).update(delivered_at=timezone.now() - hold + timedelta(minutes=1))
    assert (balance_of(client)["pending"], balance_of(client)["available"]) == ("22.50", "0.00")
    StoreOrder.objects.filter(order=order).update(delivered_at=timezone.now() - hold - timedelta(minutes=1))
    # Computed when read: no task ran in between.
    assert (balance_of(client)["pending"], balance_of(client)["available"]) == ("0.00", "22.50")


def test_the_hold_is_counted_from_the_delivery_at_the_moment_asked(store, mug):
    order = deliver(sell((mug, 2)))
    delivered_at = StoreOrder.objects.get(order=order).delivered_at
    hold = timedelta(days=settings.PAYOUT_HOLD_DAYS)

    assert store_balance(store=store, now=delivered_at + hold - timedelta(seconds=1)).available == 0
    assert store_balance(store=store, now=delivered_at + hold).available == Decimal("22.50")


def test_an_order_under_review_stays_pending(client_for, store, mug):
    order = released(sell((mug, 2)))
    Order.objects.filter(pk=order.pk).update(needs_review=True)

    assert (balance_of(client_for(store.owner))["pending"], balance_of(client_for(store.owner))["available"]) == (
        "22.50",
        "0.00",
    )


def test_refunds_reduce_the_balance_by_the_seller_share(client_for, store, mug):
    pending = sell((mug, 2))
    available = released(sell((mug, 2)))

    refund(pending, "12.50")  # one mug: 12.50 less its 1.25 commission
    refund(available, "25.00")

    body = balance_of(client_for(store.owner))
    assert (body["pending"], body["available"], body["transferred"]) == ("11.25", "0.00", "0.00")


def test_the_account_state_is_shown(client_for, store):
    connect(store, payouts_enabled=False)

    assert balance_of(client_for(store.owner))["account"] == {"status": "restricted", "payouts_enabled": False}


def test_only_sellers_see_a_balance_or_a_ledger(buyer_client, api_client):
    for path in (BALANCE, LEDGER):
        assert buyer_client.get(path).json()["code"] == "not_a_seller"
        assert api_client.get(path).status_code == 401


def test_the_ledger_shows_only_the_store_s_own_entries_signed(client_for, store, mug):
    other = ProductFactory(price=Decimal("10.00"), stock=5)
    order = released(sell((mug, 2), (other, 1)))
    connect(store)
    payouts_release()
    refund(order, "12.50")  # split over both stores in proportion

    response = client_for(store.owner).get(LEDGER)

    assert response.status_code == 200
    results = response.json()["results"]
    mine = LedgerEntry.objects.filter(store=store, account__in=["payable", "payouts"]).order_by("-created_at", "-id")
    assert [row["id"] for row in results] == [entry.pk for entry in mine]
    # Never the platform's side of the same events (its commission, the buyer's money).
    assert {row["account"] for row in results} == {"payable", "payouts"}
    by_kind = {(row["kind"], row["account"]): row for row in results}
    assert by_kind["sale", "payable"]["amount"] == "22.50"
    assert by_kind["transfer", "payable"]["amount"] == "-22.50"
    assert by_kind["transfer", "payouts"]["amount"] == "22.50"
    assert by_kind["refund", "payable"]["amount"].startswith("-")
    assert {row["order_number"] for row in results} == {order.number}
    assert set(results[0]) == {"id", "at", "kind", "account", "amount", "order_number", "note"}


def test_another_store_sees_none_of_these_entries(client_for, mug):
    released(sell((mug, 2)))
    stranger = ProductFactory().store

    response = client_for(stranger.owner).get(LEDGER)

    assert (response.status_code, response.json()["count"], response.json()["results"]) == (200, 0, [])


@pytest.mark.parametrize("page_size", [2, 20])
def test_the_ledger_runs_constant_queries(client_for, store, mug, page_size, django_assert_max_num_queries):
    for _ in range(4):
        sell((mug, 1))
    client = client_for(store.owner)

    with django_assert_max_num_queries(4):  # the user, the store, the count, the page with its orders
        response = client.get(LEDGER, {"page_size": page_size})

    assert response.status_code == 200
    assert len(response.json()["results"]) == min(page_size, 4)
