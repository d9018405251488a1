"""The payouts desk in the admin: everything readable, nothing writable."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.accounts.tests.factories import UserFactory
from apps.payouts.models import Transfer, TransferReversal
from apps.payouts.services import payouts_release
from apps.payouts.tests.factories import connect, refund, released, sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def transfer(store, mug):
    order = released(sell((mug, 2)))
    connect(store)
    (made,) = payouts_release()
    refund(order, "12.50")
    payouts_release()
    return made


def test_transfers_reversals_and_balances_are_listed(admin_client, transfer, store):
    for model in ("transfer", "transferreversal", "storebalance"):
        response = admin_client.get(reverse(f"admin:payouts_{model}_changelist"))
        assert response.status_code == 200, model
    balances = admin_client.get(reverse("admin:payouts_storebalance_changelist")).content.decode()
    assert store.slug in balances
    assert "11.25" in balances
    page = admin_client.get(reverse("admin:payouts_transfer_change", args=[transfer.pk]))
    assert page.status_code == 200
    assert transfer.idempotency_key in page.content.decode()


def test_no_page_writes_an_amount_or_a_status(admin_client, transfer, store):
    reversal = TransferReversal.objects.get()
    for model, obj in (("transfer", transfer), ("transferreversal", reversal), ("storebalance", store)):
        assert admin_client.get(reverse(f"admin:payouts_{model}_add")).status_code == 403
        change = reverse(f"admin:payouts_{model}_change", args=[obj.pk])
        admin_client.post(change, {"amount": "1.00", "status": "failed", "name": "renamed"})
        delete = reverse(f"admin:payouts_{model}_delete", args=[obj.pk])
        assert admin_client.post(delete, {"post": "yes"}).status_code == 403

    transfer.refresh_from_db()
    reversal.refresh_from_db()
    store.refresh_from_db()
    assert (transfer.amount, transfer.status) == (Decimal("22.50"), "succeeded")
    assert (reversal.amount, reversal.status) == (Decimal("11.25"), "succeeded")
    assert store.name != "renamed"
    assert Transfer.objects.count() == 1
