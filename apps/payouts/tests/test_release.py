"""The payout run with the simulated provider: what is transferred, what is not, retries,
refusals, and reversals after a refund."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import TestCase

from apps.ledger.models import Kind, LedgerEntry
from apps.ledger.selectors import Balance, order_ledger_sum, store_balance
from apps.orders.models import Order
from apps.payments.models import Payment
from apps.payments.providers.base import ProviderError
from apps.payments.providers.simulated import SimulatedProvider
from apps.payouts import tasks
from apps.payouts.models import Transfer, TransferReversal, TransferStatus
from apps.payouts.services import payouts_release, payouts_reverse_due
from apps.payouts.tests.factories import connect, deliver, refund, released, sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider_calls(monkeypatch):
    """Every transfer_create and transfer_reverse the simulated provider receives, by name."""
    calls: dict[str, list[dict]] = {"transfer_create": [], "transfer_reverse": []}
    for name in calls:
        real = getattr(SimulatedProvider, name)

        def spy(self, *, _real=real, _name=name, **kwargs):
            calls[_name].append(kwargs)
            return _real(self, **kwargs)

        monkeypatch.setattr(SimulatedProvider, name, spy)
    return calls


def test_a_releasable_order_is_transferred_once(store, mug, provider_calls):
    order = released(sell((mug, 2)))
    connect(store)

    (transfer,) = payouts_release()

    assert (transfer.status, transfer.amount, transfer.idempotency_key) == (
        TransferStatus.SUCCEEDED,
        Decimal("22.50"),
        f"transfer-{order.number}-{store.slug}",
    )
    (call,) = provider_calls["transfer_create"]
    assert call["idempotency_key"] == transfer.idempotency_key
    assert (call["amount"], call["destination"], call["transfer_group"]) == (
        Decimal("22.50"),
        store.payout_account.reference,
        order.number,
    )
    assert call["source_transaction"] == Payment.objects.get(order=order).charge_reference != ""
    assert store_balance(store=store) == Balance("USD", 0, 0, Decimal("22.50"))
    assert LedgerEntry.objects.filter(kind=Kind.TRANSFER, event_key=f"transfer:{transfer.idempotency_key}").count() == 2
    assert order_ledger_sum(order_id=order.pk) == 0

    assert payouts_release() == []  # a second run: nothing more
    assert len(provider_calls["transfer_create"]) == 1


@pytest.mark.parametrize(
    "setup",
    ["no-account", "payouts-disabled", "not-delivered", "in-the-hold", "under-review", "refunded"],
)
def test_nothing_is_transferred_that_is_not_due(store, mug, provider_calls, setup):
    order = sell((mug, 2))
    if setup != "not-delivered":
        deliver(order, days_ago=1 if setup == "in-the-hold" else 8)
    if setup != "no-account":
        connect(store, payouts_enabled=setup != "payouts-disabled")
    if setup == "under-review":
        Order.objects.filter(pk=order.pk).update(needs_review=True)
    if setup == "refunded":
        refund(order, "25.00")

    assert payouts_release() == []

    assert provider_calls["transfer_create"] == []
    assert not Transfer.objects.exists()
    assert not LedgerEntry.objects.filter(kind=Kind.TRANSFER).exists()


def test_a_run_for_one_store_leaves_the_others(store, mug, provider_calls):
    from apps.catalog.tests.factories import ProductFactory

    other = ProductFactory(price=Decimal("10.00"), stock=5)
    released(sell((mug, 2), (other, 1)))
    connect(store)
    connect(other.store)

    (transfer,) = payouts_release(store=store)

    assert transfer.store == store
    assert Transfer.objects.count() == 1


def test_a_retryable_error_leaves_the_transfer_pending_and_the_next_run_repeats_its_key(
    store, mug, provider_calls, monkeypatch
):
    released(sell((mug, 2)))
    connect(store)
    real = SimulatedProvider.transfer_create

    def unreachable(self, **kwargs):
        provider_calls["transfer_create"].append(kwargs)
        raise ProviderError("the provider is unreachable")

    monkeypatch.setattr(SimulatedProvider, "transfer_create", unreachable)

    (transfer,) = payouts_release()

    assert (transfer.status, transfer.tries, transfer.reference) == (TransferStatus.PENDING, 1, "")
    assert store_balance(store=store).available == Decimal("22.50")  # not transferred yet
    assert not LedgerEntry.objects.filter(kind=Kind.TRANSFER).exists()
    monkeypatch.setattr(SimulatedProvider, "transfer_create", real)

    (again,) = payouts_release()

    assert (again.pk, again.status, again.tries) == (transfer.pk, TransferStatus.SUCCEEDED, 2)
    assert Transfer.objects.count() == 1
    first, second = provider_calls["transfer_create"]
    assert first == second
    assert first["idempotency_key"] == transfer.idempotency_key
    assert store_balance(store=store).transferred == Decimal("22.50")


def test_a_refusal_marks_the_transfer_failed_and_the_money_stays_available(store, mug, monkeypatch):
    released(sell((mug, 2)))
    connect(store)

    def refused(self, **kwargs):
        raise ProviderError("the destination account cannot receive transfers", retryable=False)

    monkeypatch.setattr(SimulatedProvider, "transfer_create", refused)

    (transfer,) = payouts_release()

    assert (transfer.status, transfer.failure) == (
        TransferStatus.FAILED,
        "the destination account cannot receive transfers",
    )
    assert store_balance(store=store).available == Decimal("22.50")
    assert payouts_release() == []  # left to staff, never sent again by the run
    assert not LedgerEntry.objects.filter(kind=Kind.TRANSFER).exists()


def test_a_refund_after_the_transfer_is_reversed_and_the_order_sums_to_zero(store, mug, provider_calls):
    order = released(sell((mug, 2)))
    connect(store)
    (transfer,) = payouts_release()

    refund(order, "12.50")  # the seller's share: 11.25 (12.50 less 1.25 commission)
    assert store_balance(store=store).available == Decimal("-11.25")
    (reversal,) = payouts_reverse_due(store_order=transfer.store_order)

    assert (reversal.status, reversal.amount, reversal.idempotency_key) == (
        TransferStatus.SUCCEEDED,
        Decimal("11.25"),
        f"{transfer.idempotency_key}-reversal-1",
    )
    (call,) = provider_calls["transfer_reverse"]
    assert call == {
        "transfer_ref": transfer.reference,
        "amount": Decimal("11.25"),
        "idempotency_key": reversal.idempotency_key,
    }
    assert store_balance(store=store) == Balance("USD", 0, 0, Decimal("11.25"))
    assert order_ledger_sum(order_id=order.pk) == 0
    assert payouts_reverse_due() == []  # nothing more is due

    refund(order, "12.50")  # the rest: the run reverses it first
    assert payouts_release() == []
    assert list(TransferReversal.objects.values_list("amount", flat=True)) == [Decimal("11.25"), Decimal("11.25")]
    assert store_balance(store=store) == Balance("USD", 0, 0, 0)
    assert order_ledger_sum(order_id=order.pk) == 0


def test_a_line_refund_after_the_transfer_is_reversed_at_once(store, mug, provider_calls, client_for):
    """The refund's commit queues the reversal (the payments hook): no payout run is needed."""
    order = released(sell((mug, 2)))
    connect(store)
    (transfer,) = payouts_release()
    line = order.lines.get()

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client_for(store.owner).post(
            f"/api/v1/seller/orders/{order.number}/refunds/",
            {"lines": [{"id": line.pk, "quantity": 1}], "reason": "scratched"},
            format="json",
        )

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "succeeded"
    (reversal,) = TransferReversal.objects.all()
    assert (reversal.transfer, reversal.status, reversal.amount) == (
        transfer,
        TransferStatus.SUCCEEDED,
        Decimal("11.25"),
    )
    assert [call["amount"] for call in provider_calls["transfer_reverse"]] == [Decimal("11.25")]
    assert store_balance(store=store) == Balance("USD", 0, 0, Decimal("11.25"))
    assert order_ledger_sum(order_id=order.pk) == 0


def test_a_refused_reversal_is_left_to_staff_and_blocks_transfers_beyond_the_available_balance(
    store, mug, provider_calls, monkeypatch
):
    first = released(sell((mug, 2)))
    connect(store)
    payouts_release()

    def refused(self, **kwargs):
        raise ProviderError("insufficient funds in the connected account", retryable=False)

    monkeypatch.setattr(SimulatedProvider, "transfer_reverse", refused)
    refund(first, "12.50")
    (reversal,) = payouts_reverse_due()
    assert reversal.status == TransferStatus.FAILED
    assert payouts_reverse_due() == []  # not asked again

    released(sell((mug, 2)))  # 22.50 releasable, but the store owes 11.25: 11.25 available
    assert store_balance(store=store).available == Decimal("11.25")

    assert payouts_release() == []
    assert len(provider_calls["transfer_create"]) == 1  # only the first order's


def test_the_command_prints_what_it_did(store, mug):
    order = released(sell((mug, 2)))
    connect(store)
    out = StringIO()

    call_command("release_payouts", stdout=out)

    assert out.getvalue() == f"transfer transfer-{order.number}-{store.slug} 22.50 USD: succeeded\n1 transfers\n"


def test_the_command_refuses_an_unknown_store(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no-such-store"):
        call_command("release_payouts", "--store", "no-such-store")


def test_the_task_runs_the_release_and_reports(store, mug):
    released(sell((mug, 2)))
    connect(store)

    assert tasks.payouts_release() == {"reversals": 0, "pending": 0, "succeeded": 1, "failed": 0}
