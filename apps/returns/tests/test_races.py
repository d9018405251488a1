"""Concurrent returns on PostgreSQL: threads with their own connections, serialised on the
order's lock (apps/returns/returns.py)."""

import pytest

from apps.catalog.models import Variant
from apps.orders.tests.test_concurrency import run_together
from apps.payments.models import Refund
from apps.returns.models import ReturnRequest

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_returns_never_ask_for_more_than_was_delivered(delivered, ask):
    responses = run_together([lambda: ask(delivered.number, [(delivered.mug_line, 2)]) for _ in range(4)])

    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409, 409, 409]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"return_exceeds"}
    assert ReturnRequest.objects.count() == 1


def test_concurrent_receipts_refund_and_restock_once(delivered, ask, client_for, mug_product):
    # One of three units: without the return's lock every receipt could refund another unit.
    pk = ask(delivered.number, [(delivered.mug_line, 1)]).json()["id"]
    clients = [client_for(delivered.seller) for _ in range(3)]
    clients[0].post(f"/api/v1/seller/returns/{pk}/approve/", {}, format="json")
    before = Variant.objects.get(product=mug_product).stock

    responses = run_together(
        [lambda c=c: c.post(f"/api/v1/seller/returns/{pk}/receive/", {"restock": True}, format="json") for c in clients]
    )

    assert sorted(r.status_code for r in responses) == [200, 409, 409]
    assert Refund.objects.count() == 1
    assert Variant.objects.get(product=mug_product).stock == before + 1
