"""Two payout runs at once on PostgreSQL: threads, each with its own connection."""

import threading

import pytest

from apps.ledger.models import Kind, LedgerEntry
from apps.orders.tests.test_concurrency import run_together
from apps.payments.providers.simulated import SimulatedProvider
from apps.payouts.models import Transfer, TransferReversal
from apps.payouts.services import payouts_release, payouts_reverse_due
from apps.payouts.tests.factories import connect, refund, released, sell

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def provider_calls(monkeypatch):
    calls: dict[str, list[dict]] = {"transfer_create": [], "transfer_reverse": []}
    lock = threading.Lock()
    for name in calls:
        real = getattr(SimulatedProvider, name)

        def spy(self, *, _real=real, _name=name, **kwargs):
            with lock:
                calls[_name].append(kwargs)
            return _real(self, **kwargs)

        monkeypatch.setattr(SimulatedProvider, name, spy)
    return calls


def test_workers_releasing_at_once_make_one_transfer(store, mug, provider_calls):
    order = released(sell((mug, 2)))
    connect(store)

    runs = run_together([payouts_release] * 4)

    assert sorted(len(run) for run in runs) == [0, 0, 0, 1]
    (call,) = provider_calls["transfer_create"]
    assert call["idempotency_key"] == f"transfer-{order.number}-{store.slug}"
    assert Transfer.objects.get().status == "succeeded"
    assert LedgerEntry.objects.filter(kind=Kind.TRANSFER).values("event_key").distinct().count() == 1


def test_workers_releasing_many_orders_at_once_send_each_once(store, mug, provider_calls):
    orders = [released(sell((mug, 1))) for _ in range(3)]
    connect(store)

    runs = run_together([payouts_release] * 3)

    assert sum(len(run) for run in runs) == 3
    keys = sorted(call["idempotency_key"] for call in provider_calls["transfer_create"])
    assert keys == sorted(f"transfer-{order.number}-{store.slug}" for order in orders)
    assert LedgerEntry.objects.filter(kind=Kind.TRANSFER).values("event_key").distinct().count() == 3


def test_workers_reversing_at_once_make_one_reversal(store, mug, provider_calls):
    order = released(sell((mug, 2)))
    connect(store)
    payouts_release()
    refund(order, "12.50")

    run_together([payouts_reverse_due] * 4)

    assert len(provider_calls["transfer_reverse"]) == 1
    assert TransferReversal.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=Kind.REVERSAL).values("event_key").distinct().count() == 1
