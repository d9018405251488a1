"""Paying sellers: transfers of releasable store orders to connected accounts, and reversals of
what a later refund took back.

Every provider call follows one shape: a row is claimed in a transaction (under the locks that
make the claim unique), the provider is called outside any transaction with the row's
idempotency key, and its answer is recorded, with the ledger event, in a second transaction
under the row's lock. A retryable provider error leaves the row pending, to be sent again with
the same key by the next run; a refusal marks it failed for staff. So no retry, lost answer or
concurrent worker can move money twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from apps.accounts.models import Store
from apps.core.money import money
from apps.ledger.models import Account
from apps.ledger.selectors import store_balance, store_order_balances
from apps.ledger.services import ledger_reversal, ledger_transfer
from apps.orders.locks import lock_order
from apps.orders.models import StoreOrder
from apps.payments.models import ConnectAccount, Payment
from apps.payments.providers import get_provider
from apps.payments.providers.base import ProviderError
from apps.payouts.locks import lock_reversal, lock_store_for_payouts, lock_transfer
from apps.payouts.models import Transfer, TransferReversal, TransferStatus

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
# How long a worker has to ask the provider and record its answer before another may send the
# same row again (with the same key): well beyond the provider client's timeouts and retries.
SENDING_LEASE = timedelta(minutes=5)


def _take_sending(*, model: type[Transfer] | type[TransferReversal], pk: int) -> bool:
    """Whether this worker may send the pending row now (a conditional update: one winner)."""
    now = timezone.now()
    return bool(
        model.objects.filter(pk=pk, status=TransferStatus.PENDING)
        .filter(Q(sending_until__isnull=True) | Q(sending_until__lt=now))
        .update(sending_until=now + SENDING_LEASE)
    )


def payouts_release(*, now: datetime | None = None, store: Store | None = None) -> list[Transfer]:
    """One payout run (of every store, or of ``store``): reversals due first (payouts_reverse_due),
    then transfers left pending by an earlier run, sent again with their keys, then a transfer
    for each releasable store order (ledger.selectors: delivered PAYOUT_HOLD_DAYS before ``now``,
    not under review) with a positive payable and no transfer yet, of each store whose connected
    account has payouts enabled. A store order is transferred whole, and only while the store's
    available balance covers it. Returns the transfers this run sent, as they ended (not those
    another worker is sending)."""
    payouts_reverse_due()
    enabled = ConnectAccount.objects.filter(payouts_enabled=True).select_related("store").order_by("pk")
    if store is not None:
        enabled = enabled.filter(store=store)
    unsent = Transfer.objects.filter(
        status=TransferStatus.PENDING, store_id__in=enabled.values("store_id")
    ).select_related("store_order__order")
    sent = [transfer_send(transfer=transfer) for transfer in unsent.order_by("pk")]
    if sent:  # a transfer sent late may meet a refund made meanwhile: reverse that now, not next run
        payouts_reverse_due()
    for account in enabled:
        for store_order_id in _releasable_store_order_ids(store=account.store, now=now):
            transfer = _transfer_claim(store=account.store, account=account, store_order_id=store_order_id, now=now)
            if transfer is not None:
                sent.append(transfer_send(transfer=transfer))
    return [transfer for transfer in sent if transfer is not None]


def _releasable_store_order_ids(*, store: Store, now: datetime | None) -> list[int]:
    """Store orders of ``store`` releasable now with a positive payable and no transfer (a read
    without locks: each is checked again when claimed)."""
    candidates = [
        row.store_order_id for row in store_order_balances(store=store, now=now) if row.releasable and row.payable > 0
    ]
    transferred = set(Transfer.objects.filter(store_order_id__in=candidates).values_list("store_order_id", flat=True))
    return [pk for pk in candidates if pk not in transferred]


def _transfer_claim(
    *, store: Store, account: ConnectAccount, store_order_id: int, now: datetime | None
) -> Transfer | None:
    """Write the pending Transfer of a store order, or None when it is not due any more. Under the
    store's lock (one claim of the store at a time: the available balance is spent once) and the
    order's (refunds change the payable under it); the store order's unique transfer is the last
    guard."""
    with transaction.atomic():
        lock_store_for_payouts(pk=store.pk)
        store_order = StoreOrder.objects.select_related("order").get(pk=store_order_id)
        lock_order(pk=store_order.order_id)
        if Transfer.objects.filter(store_order_id=store_order_id).exists():
            return None
        row = next((r for r in store_order_balances(store=store, now=now) if r.store_order_id == store_order_id), None)
        if row is None or not row.releasable or row.payable <= 0:
            return None
        # Transfers claimed and not yet recorded are still in the ledger's payable: not available.
        claimed = Transfer.objects.filter(store=store, status=TransferStatus.PENDING).aggregate(total=Sum("amount"))
        available = store_balance(store=store, now=now).available - money(claimed["total"] or ZERO)
        if row.payable > available:
            logger.warning(
                "store order %s of %s (%s) waits: %s available",
                store_order.order.number,
                store.slug,
                row.payable,
                available,
            )
            return None
        charge = (
            Payment.objects.filter(order_id=store_order.order_id, settles_order=True)
            .values_list("charge_reference", flat=True)
            .first()
        )
        return Transfer.objects.create(
            store_order=store_order,
            store=store,
            provider=account.provider,
            destination=account.reference,
            source_transaction=charge or "",
            amount=row.payable,
            currency=store_order.order.currency,
            idempotency_key=Transfer.key_for(order_number=store_order.order.number, store_slug=store.slug),
        )


def transfer_send(*, transfer: Transfer) -> Transfer | None:
    """Ask the provider for a pending transfer (its own key: a repeat is answered with the first
    transfer) and record the answer; None when another worker is sending it now. Raises nothing
    about the provider: a retryable error leaves it pending for the next run, a refusal marks it
    failed (the money stays available)."""
    if not _take_sending(model=Transfer, pk=transfer.pk):
        return None
    order = transfer.store_order.order
    try:
        result = get_provider(transfer.provider).transfer_create(
            amount=transfer.amount,
            currency=transfer.currency,
            destination=transfer.destination,
            transfer_group=order.number,
            source_transaction=transfer.source_transaction or None,
            idempotency_key=transfer.idempotency_key,
            metadata={"order": order.number, "store": transfer.store_order.store_slug},
        )
    except ProviderError as error:
        return _record_refusal(lock=lock_transfer, row=transfer, error=error)
    with transaction.atomic():
        locked, recorded = _record_success(lock=lock_transfer, row=transfer, reference=result.reference)
        if not recorded:
            return locked  # recorded already (another worker, a late retry)
        ledger_transfer(
            store_order=locked.store_order,
            key=f"transfer:{locked.idempotency_key}",
            amount=locked.amount,
            currency=locked.currency,
            note=f"transfer {result.reference}",
        )
    return locked


def payouts_reverse_due(
    *, store_order: StoreOrder | None = None, order_id: int | None = None
) -> list[TransferReversal]:
    """Take back what refunds made after a payout left owing: reversals left pending are sent again
    with their keys, then each transferred store order (or ``store_order`` alone) whose payable
    went negative gets a reversal of min(-payable, transferred). A transfer whose last reversal the
    provider refused is left to staff. Callable right after a refund. Returns the reversals this
    call sent (not those another worker is sending). ``order_id`` limits it to one order's store
    orders (the reversal queued after a refund of that order)."""
    unsent = TransferReversal.objects.filter(status=TransferStatus.PENDING).select_related("transfer")
    due = (
        Transfer.objects.filter(status=TransferStatus.SUCCEEDED)
        .exclude(reversals__status=TransferStatus.FAILED)
        .annotate(
            payable=Sum(
                "store_order__ledger_entries__amount", filter=Q(store_order__ledger_entries__account=Account.PAYABLE)
            ),
            paid_out=Sum(
                "store_order__ledger_entries__amount", filter=Q(store_order__ledger_entries__account=Account.PAYOUTS)
            ),
        )
        .filter(payable__lt=0, paid_out__gt=0)
    )
    if store_order is not None:
        unsent = unsent.filter(transfer__store_order=store_order)
        due = due.filter(store_order=store_order)
    if order_id is not None:
        unsent = unsent.filter(transfer__store_order__order_id=order_id)
        due = due.filter(store_order__order_id=order_id)
    sent = [reversal_send(reversal=reversal) for reversal in unsent.order_by("pk")]
    for transfer_id in due.order_by("pk").values_list("pk", flat=True):
        reversal = _reversal_claim(transfer_id=transfer_id)
        if reversal is not None:
            sent.append(reversal_send(reversal=reversal))
    return [reversal for reversal in sent if reversal is not None]


def _reversal_claim(*, transfer_id: int) -> TransferReversal | None:
    """Write the next pending reversal of a transfer, or None when none is due. Under the order's
    lock (refunds change the payable under it), then the transfer's; one pending reversal per
    transfer (a constraint), so a second worker finds the first one's."""
    with transaction.atomic():
        order_id = Transfer.objects.filter(pk=transfer_id).values_list("store_order__order_id", flat=True).get()
        lock_order(pk=order_id)
        transfer = lock_transfer(pk=transfer_id)
        if (
            transfer.status != TransferStatus.SUCCEEDED
            or transfer.reversals.filter(status__in=[TransferStatus.PENDING, TransferStatus.FAILED]).exists()
        ):
            return None
        row = next(
            (r for r in store_order_balances(store=transfer.store) if r.store_order_id == transfer.store_order_id), None
        )
        amount = min(-row.payable, row.transferred) if row is not None else ZERO
        if amount <= 0:
            return None
        sequence = transfer.reversals.count() + 1
        return TransferReversal.objects.create(
            transfer=transfer, amount=amount, idempotency_key=f"{transfer.idempotency_key}-reversal-{sequence}"
        )


def reversal_send(*, reversal: TransferReversal) -> TransferReversal | None:
    """Ask the provider for a pending reversal (its own key) and record the answer, as transfer_send."""
    if not _take_sending(model=TransferReversal, pk=reversal.pk):
        return None
    transfer = reversal.transfer
    try:
        result = get_provider(transfer.provider).transfer_reverse(
            transfer_ref=transfer.reference, amount=reversal.amount, idempotency_key=reversal.idempotency_key
        )
    except ProviderError as error:
        return _record_refusal(lock=lock_reversal, row=reversal, error=error)
    with transaction.atomic():
        locked, recorded = _record_success(lock=lock_reversal, row=reversal, reference=result.reference)
        if not recorded:
            return locked  # recorded already (another worker, a late retry)
        ledger_reversal(
            store_order=locked.transfer.store_order,
            key=f"reversal:{locked.idempotency_key}",
            amount=locked.amount,
            currency=locked.transfer.currency,
            note=f"reversal {result.reference} of {locked.transfer.reference}",
        )
    return locked


def _record_refusal(*, lock, row: Transfer | TransferReversal, error: ProviderError) -> Transfer | TransferReversal:
    """The provider refused or could not be reached: a pending row is freed for the next run (a
    retryable error) or marked failed for staff (a refusal)."""
    logger.warning(
        "%s %s failed (%s); retryable: %s", row._meta.model_name, row.idempotency_key, error, error.retryable
    )
    with transaction.atomic():
        locked = lock(pk=row.pk)
        if locked.status == TransferStatus.PENDING:
            locked.tries += 1
            locked.failure = str(error)[:500]
            locked.sending_until = None  # the next run may send it again
            if not error.retryable:
                locked.status = TransferStatus.FAILED
            locked.save(update_fields=["tries", "failure", "sending_until", "status", "updated_at"])
    return locked


def _record_success(
    *, lock, row: Transfer | TransferReversal, reference: str
) -> tuple[Transfer | TransferReversal, bool]:
    """Inside the caller's transaction: mark a pending row succeeded with the provider's reference
    and say so (the caller then posts its ledger event); a row no longer pending is returned as it
    is, with False."""
    locked = lock(pk=row.pk)
    if locked.status != TransferStatus.PENDING:
        return locked, False
    locked.tries += 1
    locked.status, locked.reference, locked.failure = TransferStatus.SUCCEEDED, reference, ""
    locked.save(update_fields=["tries", "status", "reference", "failure", "updated_at"])
    return locked, True
