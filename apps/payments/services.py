"""Payment flows: start an attempt, record what the provider says, apply a success to the order,
refund, cancel, and the sweeps that finish what a crash or a provider error left undone.

Providers are called outside any database transaction (never while a row lock is held). Every
call that moves money carries an idempotency key made of the order number, the attempt and a
sequence, so a retry cannot charge or refund twice. A Payment row per attempt records what the
provider said; a Refund row is written *before* the provider is asked to refund, so no refund
is lost when the request dies or the provider fails: ``payments_refund_due`` sends it later.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q, Sum
from django.utils import timezone

from apps.accounts.models import User
from apps.core.money import money
from apps.ledger.services import ZERO, Event, Portion, capture_event, ledger_post_events, ledger_refund, sale_event
from apps.orders.exceptions import InvalidTransition
from apps.orders.locks import lock_order
from apps.orders.models import Order, OrderStatus, StoreOrder
from apps.orders.services import (
    order_flag_for_review,
    order_lines_refund_release,
    order_mark_paid_locked,
    order_note,
    store_order_cancel_if_refunded,
)
from apps.payments.exceptions import InvalidPaymentMethod, RefundExceeds
from apps.payments.hooks import refund_posted
from apps.payments.locks import lock_payment, lock_payments_of_order, lock_refund
from apps.payments.models import Payment, Refund
from apps.payments.notifications import refund_succeeded_notify
from apps.payments.providers import get_provider
from apps.payments.providers.base import (
    InvalidPaymentMethodError,
    PaymentResult,
    PaymentStatus,
    ProviderError,
    RefundResult,
    RefundStatus,
)

logger = logging.getLogger(__name__)
OPEN_STATUSES = (PaymentStatus.PENDING, PaymentStatus.FAILED, PaymentStatus.REQUIRES_ACTION)
# Payments holding money Bazaar may have to give back.
CAPTURED_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)
# A provider's answer about an intent never says "refunded" to Bazaar's books: refunds are
# Refund rows, and the payment's refund statuses follow from them.
_INTENT_VIEW = {
    PaymentStatus.REFUNDED: PaymentStatus.SUCCEEDED,
    PaymentStatus.PARTIALLY_REFUNDED: PaymentStatus.SUCCEEDED,
}


def payment_for_reference(*, provider: str, reference: str) -> Payment | None:
    if not reference:
        return None
    return Payment.objects.filter(provider=provider, reference=reference).select_related("order").first()


def payment_latest(*, order: Order) -> Payment | None:
    return order.payments.order_by("-attempt").first()


def payment_method_check(*, payment_method: str) -> None:
    """Raises InvalidPaymentMethod when the configured provider would refuse the method outright
    (its format: no network)."""
    try:
        get_provider().check_method(payment_method=payment_method)
    except InvalidPaymentMethodError as error:
        raise InvalidPaymentMethod(str(error)) from error


def _copy(source: Payment, target: Payment) -> Payment:
    """Bring the caller's ``target`` up to date with the row read under the lock."""
    for field in Payment._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    return target


def payment_record(*, payment: Payment, result: PaymentResult) -> Payment:
    """Store the provider's answer about an attempt, checked against the row as it is now (not as
    the caller read it earlier): an answer never moves a payment back (PaymentStatus.RANK), so a
    late ``pending`` cannot undo a success, nor a success a refund. A success records
    ``amount_received``, what the provider actually took, and posts its capture to the ledger."""
    status = _INTENT_VIEW.get(result.status, result.status)
    if status == PaymentStatus.SUCCEEDED:
        with transaction.atomic():
            _, locked, events, changed = _record_success(payment=payment, result=result)
            if changed:
                locked.save()
            ledger_post_events(events)
        return _copy(locked, payment)
    # Anything but a success moves no money and posts nothing: one conditional statement, taken
    # only while the row's status ranks no higher than the answer's (no lock held, none waited on).
    changes = {
        "status": status,
        "failure_code": result.failure_code,
        "response": {**result.raw, "failure_message": result.failure_message} if result.failure_message else result.raw,
        "updated_at": timezone.now(),
    }
    for field in ("reference", "client_secret", "charge_reference"):
        if getattr(result, field):
            changes[field] = getattr(result, field)
    below = [name for name, rank in PaymentStatus.RANK.items() if rank <= PaymentStatus.RANK[status]]
    if Payment.objects.filter(pk=payment.pk, status__in=below).update(**changes):
        for field, value in changes.items():
            setattr(payment, field, value)
        return payment
    return _copy(Payment.objects.get(pk=payment.pk), payment)


def _record_success(*, payment: Payment, result: PaymentResult | None) -> tuple[Order, Payment, list[Event], bool]:
    """Inside a transaction: lock the payment's order, then the payment, and apply a successful
    ``result`` to the locked row (None: nothing to apply, the row is only read under its locks).
    Returns the locked order and payment, the capture to post, and whether the row changed; the
    caller saves the row and posts the events (with the sale, when it pays the order)."""
    # The order first (the project's lock order): a success posts ledger entries referring to
    # it, whose foreign key PostgreSQL checks at commit with a share lock on the order row; a
    # cancel holding the order while it waits for this payment would deadlock with that.
    order = lock_order(pk=payment.order_id)
    locked = lock_payment(pk=payment.pk)
    events: list[Event] = []
    changed = result is not None and PaymentStatus.RANK[PaymentStatus.SUCCEEDED] >= PaymentStatus.RANK[locked.status]
    if changed:
        locked.status = PaymentStatus.SUCCEEDED
        locked.reference = result.reference or locked.reference
        locked.failure_code = result.failure_code
        locked.client_secret = result.client_secret or locked.client_secret
        locked.charge_reference = result.charge_reference or locked.charge_reference
        locked.response = (
            {**result.raw, "failure_message": result.failure_message} if result.failure_message else result.raw
        )
        if locked.amount_received is None:
            locked.amount_received = money(result.amount)
            events.append(
                capture_event(
                    order=order,
                    key=f"capture:{order.number}:{locked.attempt}",
                    amount=locked.amount_received,
                    currency=(result.currency or locked.currency).upper(),
                    note=f"{locked.provider} {locked.reference}",
                )
            )
    return order, locked, events, changed


def payment_mark_failed(*, payment: Payment, failure_code: str, message: str) -> Payment:
    """Record that an attempt failed on Bazaar's side of the provider (a payment method the provider
    does not know), unless the provider said more since."""
    with transaction.atomic():
        locked = lock_payment(pk=payment.pk)
        if locked.status == PaymentStatus.PENDING:
            locked.status, locked.failure_code = PaymentStatus.FAILED, failure_code
            locked.response = {**locked.response, "failure_message": message}
            locked.save(update_fields=["status", "failure_code", "response", "updated_at"])
    return _copy(locked, payment)


def payment_open(*, order: Order) -> Payment:
    """The first attempt of an order placed in the current transaction (apps.checkout opens it
    there, so that placing and opening take one transaction): ``pending``, not yet sent to the
    provider; ``payment_begin`` sends it."""
    provider = get_provider()
    return Payment.objects.create(
        order=order, provider=provider.name, attempt=1, amount=order.total, currency=order.currency
    )


def payment_startable(*, payment: Payment) -> bool:
    """Whether ``payment_begin`` may (still) send this attempt: pending, with no answer from the
    provider, and no start that failed (a provider may keep a failed call's answer under its
    idempotency key; such an attempt is left and a new one started)."""
    return payment.status == PaymentStatus.PENDING and not payment.reference and START_FAILED not in payment.response


START_FAILED = "start_failed"


def payment_start(*, order: Order) -> Payment:
    """Open a new payment attempt for a ``pending_payment`` order with the provider. Raises
    InvalidTransition when the order is not payable (never a second attempt on a paid order) and
    ProviderError (the attempt stays ``pending`` with no reference, and the order payable)."""
    provider = get_provider()
    with transaction.atomic():
        locked = lock_order(pk=order.pk)
        if locked.status != OrderStatus.PENDING_PAYMENT:
            raise InvalidTransition.refused(status=locked.status, change="be paid")
        attempt = (locked.payments.aggregate(last=Max("attempt"))["last"] or 0) + 1
        payment = Payment.objects.create(
            order=locked, provider=provider.name, attempt=attempt, amount=locked.total, currency=locked.currency
        )
    return payment_begin(payment=payment, number=order.number)


def payment_begin(*, payment: Payment, number: str) -> Payment:
    """Send an attempt made by payment_start or payment_open to its provider (idempotent: the
    attempt's own key, so an attempt whose request died before the answer was recorded is sent
    again safely) and record the answer. Raises ProviderError: the attempt stays ``pending`` with
    no reference, marked as a failed start (a retry opens a new attempt)."""
    try:
        result = get_provider(payment.provider).start(
            amount=payment.amount,
            currency=payment.currency,
            reference=number,
            idempotency_key=f"order-{number}-attempt-{payment.attempt}-start",
        )
    except ProviderError as error:
        Payment.objects.filter(pk=payment.pk, reference="").update(
            response={START_FAILED: str(error)[:200]}, updated_at=timezone.now()
        )
        raise
    return payment_record(payment=payment, result=result)


def payment_confirm(*, payment: Payment, payment_method: str, idempotency_key: str) -> PaymentResult:
    """Ask the attempt's provider to charge ``payment_method``. Raises InvalidPaymentMethodError
    (the provider does not know the method) and ProviderError; records nothing."""
    return get_provider(payment.provider).confirm(
        payment_ref=payment.reference, payment_method=payment_method, idempotency_key=idempotency_key
    )


def payment_apply_result(*, payment: Payment, result: PaymentResult, note: str) -> str:
    """Store what the provider said and, for a success, apply it to the order. Returns the outcome:
    ``paid`` (this attempt paid the order), ``already_paid`` (a replay of that), ``needs_review``
    (the amount or currency does not match: flagged, staff settle it), ``refund`` (the order was
    cancelled meanwhile, or another attempt paid it: this charge is refunded, unless staff review
    the order), or the payment's status when it is not a success.

    A success is stored and applied in ONE transaction under the order's and the payment's locks:
    the payment's row, the capture and the sale posted together, the order paid (its mails queued
    for after the commit)."""
    status = _INTENT_VIEW.get(result.status, result.status)
    if status != PaymentStatus.SUCCEEDED:
        payment_record(payment=payment, result=result)
        if payment.status != PaymentStatus.SUCCEEDED:
            return payment.status
    with transaction.atomic():
        order, locked, events, changed = _record_success(
            payment=payment, result=result if status == PaymentStatus.SUCCEEDED else None
        )
        outcome = locked.status
        if locked.status == PaymentStatus.SUCCEEDED:
            if locked.settles_order:
                outcome = "already_paid"
            else:
                outcome = order_mark_paid_locked(
                    order=order, amount=locked.amount_received, currency=result.currency, note=note
                )
                if outcome == "paid":
                    locked.settles_order = changed = True
                    events.append(sale_event(order=order, key=f"sale:{order.number}", note=note))
        if changed:
            locked.save()
        if events:
            ledger_post_events(events)
        _copy(locked, payment)
    if locked.status != PaymentStatus.SUCCEEDED:
        return locked.status  # refunded meanwhile: nothing to apply
    if locked.settles_order and outcome == "already_paid":
        return "already_paid"  # this attempt paid the order before: a replay
    if outcome in ("refund", "already_paid"):  # cancelled meanwhile, or a second charge for a paid order
        if not Order.objects.only("needs_review").get(pk=payment.order_id).needs_review:
            reason = "order cancelled" if outcome == "refund" else "charged twice"
            refund = refund_request(payment=payment, reason=reason)
            if refund is not None:
                refund_send(refund=refund)
        return "refund"
    return outcome


# --- refunds ------------------------------------------------------------------------------------


def _claimed(payment: Payment) -> Decimal:
    """What the payment's refunds give back or are giving back (all but the failed ones)."""
    return payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(total=Sum("amount"))["total"] or Decimal(0)


def payment_refundable(*, payment: Payment) -> Decimal:
    """What the payment received and is not yet refunded nor being refunded (on a locked payment)."""
    return money((payment.amount_received or 0) - _claimed(payment))


def refund_key_next(*, payment: Payment) -> str:
    """The idempotency key of the next refund Bazaar asks of a locked ``payment``."""
    sequence = payment.refunds.filter(origin=Refund.Origin.BAZAAR).count() + 1
    return f"order-{payment.order.number}-attempt-{payment.attempt}-refund-{sequence}"


def refund_request(
    *, payment: Payment, amount: Decimal | None = None, reason: str = "", actor: User | None = None
) -> Refund | None:
    """Record a refund of ``amount`` (default: all that is left) before anyone asks the provider;
    ``refund_send`` then sends it (and the sweep, if that fails). Returns None when nothing is left
    to refund. Raises RefundExceeds for more than the payment received minus what is refunded or
    being refunded: concurrent requests are serialised on the payment's lock."""
    with transaction.atomic():
        order = lock_order(pk=payment.order_id)  # order, then payment: the project's lock order
        locked = lock_payment(pk=payment.pk)
        if locked.status not in CAPTURED_STATUSES:
            if amount is None:
                return None
            raise RefundExceeds(f"The payment is {locked.status}: nothing was received to refund.")
        left = payment_refundable(payment=locked)
        amount = left if amount is None else money(amount)
        if amount > left:
            raise RefundExceeds(
                f"A refund of {amount} is more than the {left} left to refund.", extra={"refundable": str(left)}
            )
        if amount <= 0:
            return None
        refund = Refund.objects.create(
            payment=locked,
            amount=amount,
            idempotency_key=refund_key_next(payment=locked),
            reason=reason[:200],
            requested_by=actor,
        )
        if actor is not None and actor.is_staff:  # what staff do to money shows in the order's history
            order_note(order=order, note=f"refund of {amount} {locked.currency} asked by staff: {reason}", actor=actor)
    return refund


def refund_send(*, refund: Refund) -> Refund:
    """Ask the provider for a recorded, unsent refund (idempotent: the refund's own key). A
    provider error leaves it pending for the sweep (retryable) or marks it failed (a refusal, for
    staff to retry); a refund the provider left pending is asked about later, never sent again."""
    if refund.status != RefundStatus.PENDING or refund.reference:
        return refund
    payment = refund.payment
    try:
        result = get_provider(payment.provider).refund(
            payment_ref=payment.reference, amount=refund.amount, idempotency_key=refund.idempotency_key
        )
    except ProviderError as error:
        logger.warning("refund %s failed (%s); retryable: %s", refund.idempotency_key, error, error.retryable)
        with transaction.atomic():
            order = lock_order(pk=payment.order_id)  # order, then refund: the project's lock order
            locked = lock_refund(pk=refund.pk)
            locked.tries += 1
            locked.failure = str(error)[:500]
            if not error.retryable and locked.status == RefundStatus.PENDING and not locked.reference:
                locked.status = RefundStatus.FAILED
                _refund_lines_release(refund=locked, order=order)
            locked.save(update_fields=["tries", "failure", "status", "updated_at"])
        return locked
    return refund_apply(refund=refund, result=result)


def refund_apply(*, refund: Refund, result: RefundResult) -> Refund:
    """Record the provider's answer about a refund; a success adds to the payment's refunded amount
    (once: a refund no longer pending is never applied again)."""
    with transaction.atomic():
        order = lock_order(pk=refund.payment.order_id)  # order, payment, refund: the project's lock order
        lock_payment(pk=refund.payment_id)
        locked = lock_refund(pk=refund.pk)
        if locked.status != RefundStatus.PENDING:
            return locked
        locked.tries += 1
        if result.status == RefundStatus.SUCCEEDED and not result.reference and result.amount == 0:
            # The charge was refunded in full outside Bazaar before this refund reached it.
            locked.status, locked.failure = RefundStatus.FAILED, "already refunded at the provider"
            locked.save(update_fields=["status", "failure", "tries", "updated_at"])
            _refund_lines_release(refund=locked, order=order)
            _record_outside_refund(
                payment=locked.payment, amount=locked.amount, key=f"already-refunded-{locked.idempotency_key}"
            )
            return locked
        locked.reference = result.reference or locked.reference
        if result.status == RefundStatus.SUCCEEDED:
            locked.status, locked.failure = RefundStatus.SUCCEEDED, ""
            payment = _payment_refunded(payment_id=locked.payment_id, amount=locked.amount, reference=locked.reference)
            ledger_refund(
                order=order,
                key=f"refund:{locked.idempotency_key}",
                amount=locked.amount,
                currency=payment.currency,
                portions=_refund_portions(refund=locked),
                settled=payment.settles_order,
                note=locked.reason,
            )
            refund_posted(order_id=order.pk)
            if locked.store_order_id is not None:  # a refund of lines: the seller or staff chose it, the buyer hears
                others = Refund.objects.filter(store_order_id=locked.store_order_id, status=RefundStatus.PENDING)
                if not others.exclude(pk=locked.pk).exists():  # a pending one may still fail and give units back
                    store_order_cancel_if_refunded(
                        order=order, store_order_id=locked.store_order_id, actor=locked.requested_by
                    )
                refund_succeeded_notify(refund=locked, order=order)
        elif result.status == RefundStatus.FAILED:
            locked.status, locked.failure = RefundStatus.FAILED, "the provider could not complete the refund"
            _refund_lines_release(refund=locked, order=order)
        locked.save(update_fields=["status", "reference", "failure", "tries", "updated_at"])
    return locked


def _refund_portions(*, refund: Refund) -> list[Portion] | None:
    """What a line refund posts to its store order (None for a refund of the whole payment: the
    ledger splits it). Bounded by what the store order has left, in case a refund made outside
    Bazaar took part of it since the refund was recorded: the rest then comes out of
    ``unapplied`` (and the order is under review already)."""
    if refund.store_order_id is None:
        return None
    part = StoreOrder.objects.get(pk=refund.store_order_id)
    items = min(refund.items_amount, max(part.subtotal - part.refunded_items, ZERO))
    shipping = min(refund.shipping_amount, max(part.shipping - part.refunded_shipping, ZERO))
    return [Portion(part, money(items), money(shipping))]


def _refund_lines_release(*, refund: Refund, order: Order) -> None:
    """A line refund failed for good: its units are refundable again (under the order's lock)."""
    quantities = dict(refund.lines.values_list("line_id", "quantity"))
    if quantities:
        order_lines_refund_release(order=order, quantities=quantities)


def _payment_refunded(*, payment_id: int, amount: Decimal, reference: str = "") -> Payment:
    payment = lock_payment(pk=payment_id)
    payment.amount_refunded = money(payment.amount_refunded + amount)
    payment.status = (
        PaymentStatus.REFUNDED
        if payment.amount_refunded >= (payment.amount_received or 0)
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    payment.refund_reference = reference or payment.refund_reference
    payment.save(update_fields=["amount_refunded", "status", "refund_reference", "updated_at"])
    return payment


def _record_outside_refund(*, payment: Payment, amount: Decimal, key: str) -> Refund | None:
    """A refund made at the provider, not asked by Bazaar: recorded once (``key``), added to the
    payment, and the order flagged for staff (no status or stock changes by itself)."""
    with transaction.atomic():
        order = lock_order(pk=payment.order_id)
        locked = lock_payment(pk=payment.pk)
        amount = min(money(amount), payment_refundable(payment=locked))
        if amount <= 0:
            return None
        try:
            with transaction.atomic():
                refund = Refund.objects.create(
                    payment=locked,
                    amount=amount,
                    status=RefundStatus.SUCCEEDED,
                    origin=Refund.Origin.PROVIDER,
                    idempotency_key=key,
                    reason="refunded at the provider",
                )
        except IntegrityError:
            return None  # recorded already: a replayed event
        _payment_refunded(payment_id=locked.pk, amount=amount)
        ledger_refund(
            order=order,
            key=f"refund:{key}",
            amount=amount,
            currency=locked.currency,
            settled=locked.settles_order,
            note="refunded at the provider",
        )
        refund_posted(order_id=order.pk)
        order_flag_for_review(order=order, note=f"{amount} {locked.currency} refunded outside Bazaar")
    return refund


def payment_outside_refund(*, payment: Payment, refunded_total: Decimal, key: str) -> Refund | None:
    """The provider says the payment's charge has ``refunded_total`` refunded in all. What exceeds
    the refunds Bazaar knows (sent, pending or already recorded) was made outside Bazaar and is
    recorded once; an older or replayed event (a smaller or equal total) changes nothing."""
    with transaction.atomic():
        lock_order(pk=payment.order_id)
        locked = lock_payment(pk=payment.pk)
        excess = money(refunded_total - _claimed(locked))
        if excess <= 0:
            return None
        return _record_outside_refund(payment=locked, amount=excess, key=key)


def refund_check(*, refund: Refund) -> Refund:
    """Ask the provider about a refund it answered ``pending`` (never request it again)."""
    try:
        result = get_provider(refund.payment.provider).refund_retrieve(refund_ref=refund.reference)
    except ProviderError as error:
        logger.warning("could not fetch refund %s (%s); will try again", refund.reference, error)
        return refund
    return refund_apply(refund=refund, result=result)


def payments_refund_due() -> int:
    """The refund sweep; returns how many refunds it sent or asked about. It sends refunds recorded
    and not sent (a crash, a provider error), asks about those the provider left pending, and
    records then sends what is due and was never recorded: charges on cancelled orders (not one
    whose lines its sellers refunded: what they kept is theirs) and second charges of paid ones.
    Orders flagged ``needs_review``, and payments with a refund the provider refused, are left to
    staff."""
    handled = 0
    for refund in Refund.objects.filter(status=RefundStatus.PENDING).select_related("payment__order").order_by("pk"):
        if refund.reference:
            refund_check(refund=refund)
        else:
            refund_send(refund=refund)
        handled += 1
    settled_elsewhere = Payment.objects.filter(order_id=OuterRef("order_id"), settles_order=True)
    # An order cancelled because its sellers refunded every line keeps what they chose not to
    # refund (their shipping): that is not a charge of a cancelled order left to give back.
    refunded_by_line = Refund.objects.filter(payment_id=OuterRef("pk"), store_order__isnull=False)
    due = (
        Payment.objects.filter(status__in=CAPTURED_STATUSES, order__needs_review=False)
        .filter(
            Q(~Exists(refunded_by_line), order__status=OrderStatus.CANCELLED)
            | Q(Exists(settled_elsewhere), settles_order=False)
        )
        # A refund in progress is the sweep's already; one the provider refused waits for staff
        # (the admin's retry), or every run would ask again under a new key.
        .exclude(refunds__status__in=(RefundStatus.PENDING, RefundStatus.FAILED))
        .select_related("order")
        .order_by("pk")
    )
    for payment in due:
        reason = "order cancelled" if payment.order.status == OrderStatus.CANCELLED else "charged twice"
        refund = refund_request(payment=payment, reason=reason)
        if refund is not None:
            refund_send(refund=refund)
            handled += 1
    return handled


def payments_refund_cancelled(*, order: Order, actor: User | None = None) -> list[Refund]:
    """Inside the transaction that cancels ``order``: record a refund of every charge it holds
    (sent after commit). None for an order flagged ``needs_review``: staff settle it."""
    if order.needs_review:
        return []
    refunds = []
    for payment in lock_payments_of_order(order_id=order.pk):
        if payment.status in CAPTURED_STATUSES:
            refund = refund_request(payment=payment, reason="order cancelled", actor=actor)
            if refund is not None:
                refunds.append(refund)
    return refunds


def payments_cancel_open(*, order_id: int) -> None:
    """Cancel the open attempts of a cancelled order with the provider (after commit). An attempt
    that turns out to have succeeded is applied, which refunds it."""
    number = Order.objects.values_list("number", flat=True).get(pk=order_id)
    for payment in Payment.objects.filter(order_id=order_id, status__in=OPEN_STATUSES).exclude(reference=""):
        try:
            result = get_provider(payment.provider).cancel(
                payment_ref=payment.reference,
                idempotency_key=f"order-{number}-attempt-{payment.attempt}-cancel",
            )
        except ProviderError:
            logger.exception("cancelling payment %s failed", payment.reference)
            continue
        payment_apply_result(payment=payment, result=result, note=f"{payment.provider}: cancelled order")


def payments_sync(*, provider: str | None = None) -> int:
    """Ask the provider for the truth about every open payment (webhooks that never arrived)
    and apply it; returns how many were checked."""
    payments = Payment.objects.filter(status__in=OPEN_STATUSES).exclude(reference="").select_related("order")
    if provider:
        payments = payments.filter(provider=provider)
    checked = 0
    for payment in payments:
        try:
            result = get_provider(payment.provider).retrieve(payment_ref=payment.reference)
        except ProviderError:
            logger.warning("could not fetch payment %s; will try again", payment.reference)
            continue
        payment_apply_result(payment=payment, result=result, note=f"reconciled with {payment.provider}")
        checked += 1
    return checked
