"""Payment flows: start, confirm, apply a result to the order, refund, cancel.

Providers are called outside any database transaction (never while a row lock is held); each
call that moves money carries an idempotency key derived from the order and the attempt, so a
retry cannot charge or refund twice. A Payment row per attempt records what the provider said.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.db.models import Max

from apps.orders.exceptions import (
    InvalidPaymentMethod,
    InvalidTransition,
    PaymentProviderUnavailable,
    PaymentUnderReview,
)
from apps.orders.models import Order, OrderStatus
from apps.orders.services import order_lock, order_mark_paid
from apps.payments.models import Payment
from apps.payments.providers import get_provider
from apps.payments.providers.base import (
    InvalidPaymentMethodError,
    PaymentResult,
    PaymentStatus,
    ProviderError,
)

logger = logging.getLogger(__name__)
OPEN_STATUSES = (PaymentStatus.PENDING, PaymentStatus.FAILED, PaymentStatus.REQUIRES_ACTION)


def payment_for_reference(*, provider: str, reference: str) -> Payment | None:
    if not reference:
        return None
    return Payment.objects.filter(provider=provider, reference=reference).select_related("order").first()


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


def payment_latest(*, order: Order) -> Payment | None:
    return order.payments.order_by("-attempt").first()


def _record(payment: Payment, result: PaymentResult) -> Payment:
    """Store the provider's answer. A refund is final: a late or replayed answer that predates it
    (a success arriving after the refund) does not move the payment back."""
    if payment.status == PaymentStatus.REFUNDED and result.status != PaymentStatus.REFUNDED:
        return payment
    if payment.status == PaymentStatus.SUCCEEDED and result.status not in (
        PaymentStatus.SUCCEEDED,
        PaymentStatus.REFUNDED,
    ):
        return payment  # an older "failed" or "pending" arriving after the success
    payment.reference = result.reference
    payment.status = result.status
    payment.failure_code = result.failure_code
    payment.client_secret = result.client_secret or payment.client_secret
    payment.response = (
        {**result.raw, "failure_message": result.failure_message} if result.failure_message else result.raw
    )
    payment.save(update_fields=["reference", "status", "failure_code", "client_secret", "response", "updated_at"])
    return payment


def payment_start(*, order: Order) -> Payment:
    """Open a new payment attempt for a pending order with the provider. Raises ProviderError
    (the attempt stays ``pending`` with no reference, and the order payable)."""
    provider = get_provider()
    with transaction.atomic():
        locked = order_lock(pk=order.pk)
        attempt = (locked.payments.aggregate(last=Max("attempt"))["last"] or 0) + 1
        payment = Payment.objects.create(
            order=locked, provider=provider.name, attempt=attempt, amount=locked.total, currency=locked.currency
        )
    result = provider.start(
        amount=payment.amount,
        currency=payment.currency,
        reference=order.number,
        idempotency_key=f"order-{order.number}-attempt-{attempt}-start",
    )
    return _record(payment, result)


def payment_apply_result(*, payment: Payment, result: PaymentResult, note: str) -> Payment:
    """Store what the provider said and, for a success, mark the order paid; a success for an
    order cancelled meanwhile is refunded at once."""
    _record(payment, result)
    if payment.status == PaymentStatus.SUCCEEDED:
        outcome = order_mark_paid(order_id=payment.order_id, amount=result.amount, currency=result.currency, note=note)
        paid_by_another = (
            outcome == "already_paid"
            and Payment.objects.filter(order_id=payment.order_id, status=PaymentStatus.SUCCEEDED)
            .exclude(pk=payment.pk)
            .exists()
        )
        if outcome == "refund" or paid_by_another:  # cancelled meanwhile, or a second charge
            payment_refund(payment=payment)
    return payment


def order_pay(*, order: Order, payment_method: str, idempotency_key: str | None = None) -> Payment:
    """Confirm the order's open payment (or a new attempt) with ``payment_method``.

    Returns the Payment: ``succeeded`` (the order is paid) or ``failed`` with a ``failure_code``
    (the order stays payable). Raises InvalidTransition when the order is not payable,
    InvalidPaymentMethod, or PaymentProviderUnavailable (nothing charged as far as we know)."""
    order.refresh_from_db()
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise InvalidTransition.refused(status=order.status, change="be paid")
    if order.needs_review:
        # A payment whose amount did not match already moved money: staff settle it before any other.
        raise PaymentUnderReview()
    provider = get_provider()
    try:
        payment = payment_latest(order=order)
        if payment is None or payment.status not in OPEN_STATUSES or not payment.reference:
            payment = payment_start(order=order)
        # One confirmation per client request: the client's Idempotency-Key (its retries are
        # answered by the idempotency layer before reaching here), else a fresh key, so a buyer
        # retrying after topping up the card is not answered with the old decline.
        confirm_key = f"order-{order.number}-attempt-{payment.attempt}-confirm-{idempotency_key or uuid.uuid4().hex}"
        result = get_provider(payment.provider).confirm(
            payment_ref=payment.reference, payment_method=payment_method, idempotency_key=confirm_key
        )
    except InvalidPaymentMethodError as error:
        raise InvalidPaymentMethod(str(error)) from error
    except ProviderError as error:
        logger.warning("payment provider %s failed for order %s: %s", provider.name, order.number, error)
        raise PaymentProviderUnavailable() from error
    return payment_apply_result(payment=payment, result=result, note=f"paid with {provider.name}")


def payment_refund(*, payment: Payment) -> Payment:
    """Refund a succeeded payment in full (idempotent per payment)."""
    provider = get_provider(payment.provider)
    refund = provider.refund(
        payment_ref=payment.reference,
        amount=payment.amount,
        idempotency_key=f"order-{payment.order.number}-attempt-{payment.attempt}-refund",
    )
    if refund.status == "succeeded":
        payment.status = PaymentStatus.REFUNDED
        payment.refund_reference = refund.reference
        payment.save(update_fields=["status", "refund_reference", "updated_at"])
    return payment


def payment_refund_for_order(*, order_id: int) -> None:
    """Refund every succeeded payment of a cancelled order; failures are logged and left for the
    next sweep (``expire_orders`` refunds what is still due)."""
    for payment in Payment.objects.filter(order_id=order_id, status=PaymentStatus.SUCCEEDED).select_related("order"):
        try:
            payment_refund(payment=payment)
        except ProviderError:
            logger.exception("refund of order %s attempt %s failed; will retry", payment.order.number, payment.attempt)


def payment_cancel_for_order(*, order_id: int) -> None:
    """Cancel the open payment attempts of a cancelled, unpaid order with the provider."""
    for payment in Payment.objects.filter(order_id=order_id, status__in=OPEN_STATUSES).exclude(reference=""):
        try:
            result = get_provider(payment.provider).cancel(
                payment_ref=payment.reference,
                idempotency_key=f"order-{order_id}-attempt-{payment.attempt}-cancel",
            )
        except ProviderError:
            logger.exception("cancelling payment %s failed", payment.reference)
            continue
        _record(payment, result)
        if result.status == PaymentStatus.SUCCEEDED:  # it was paid after all: give the money back
            payment_refund(payment=payment)


def payments_refund_due() -> int:
    """Refund succeeded payments of cancelled orders that a crash or provider error left unrefunded."""
    due = Payment.objects.filter(status=PaymentStatus.SUCCEEDED, order__status=OrderStatus.CANCELLED)
    order_ids = set(due.values_list("order_id", flat=True))
    for order_id in order_ids:
        payment_refund_for_order(order_id=order_id)
    return len(order_ids)


def checkout_payment(*, order: Order, payment_method: str | None) -> None:
    """After checkout commits: start the payment, and confirm at once when a method was given.
    A provider failure or a decline leaves the order pending_payment and payable later."""
    try:
        if payment_method:
            order_pay(order=order, payment_method=payment_method)
        else:
            payment_start(order=order)
    except (PaymentProviderUnavailable, ProviderError):
        logger.warning("payment for order %s not started: provider unavailable", order.number)


def payment_method_check(*, payment_method: str) -> None:
    """Raises InvalidPaymentMethod when the configured provider would refuse the method outright."""
    try:
        get_provider().check_method(payment_method=payment_method)
    except InvalidPaymentMethodError as error:
        raise InvalidPaymentMethod(str(error)) from error
