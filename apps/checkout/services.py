"""What spans orders and payments: place an order and pay it, pay, cancel and settle, expire and
settle, and what staff do with payments that need them. The retry rules live here (API.md,
"Retries and failures, precisely"):

- Once checkout has placed the order, its answer is that order, whatever happens to the payment
  afterwards: a decline or a payment method the provider does not know leaves the attempt
  ``failed``; a provider that is down or slow leaves it ``pending``. Never a 4xx after the order
  exists.
- A checkout retried with the same Idempotency-Key and body within 24 hours answers the order the
  first request made, as it stands, and resumes its payment only where the first request stopped
  before the provider answered; never a second attempt on a paid order, never a 409 for the
  buyer's own earlier success.
- ``pay`` on an order cancelled or expired meanwhile is 409 ``invalid_transition``; a charge that
  went through anyway is refunded (recorded before the provider is asked, swept if that fails).
- A payment flagged ``needs_review`` is never cancelled by expiry nor refunded automatically;
  staff settle it here, and any refund is of what the provider received.

Provider calls of one request share one time budget (payments.providers.budget), below the worker
timeout.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction

from apps.accounts.models import User
from apps.ledger.services import ledger_sale
from apps.orders.exceptions import InvalidTransition
from apps.orders.locks import lock_order
from apps.orders.models import Order, OrderStatus
from apps.orders.notifications import order_paid_notify
from apps.orders.services import (
    order_cancel,
    order_place_once,
    order_review_close,
    order_total_check,
    order_transition,
    orders_expire,
)
from apps.payments.exceptions import InvalidPaymentMethod, PaymentProviderUnavailable, PaymentUnderReview, RefundExceeds
from apps.payments.locks import lock_payments_of_order
from apps.payments.models import Payment, Refund
from apps.payments.providers.base import (
    MAX_AMOUNT,
    MIN_AMOUNT,
    InvalidPaymentMethodError,
    PaymentStatus,
    ProviderError,
    RefundStatus,
)
from apps.payments.providers.budget import provider_budget
from apps.payments.refunds import refund_lines
from apps.payments.services import (
    CAPTURED_STATUSES,
    OPEN_STATUSES,
    payment_apply_result,
    payment_begin,
    payment_confirm,
    payment_latest,
    payment_mark_failed,
    payment_method_check,
    payment_open,
    payment_start,
    payment_startable,
    payments_cancel_open,
    payments_refund_cancelled,
    refund_request,
    refund_send,
)

logger = logging.getLogger(__name__)
AMOUNT_LIMITS = (MIN_AMOUNT, MAX_AMOUNT)


def checkout_place(
    *,
    buyer: User,
    shipping_address: dict[str, Any],
    payment_method: str | None = None,
    idempotency_key: str | None = None,
    request_hash: str = "",
    shipping_rates: dict[str, int | None] | None = None,
) -> Order:
    """Place the buyer's cart as an order, each store shipping with the rate named in
    ``shipping_rates`` ({store slug: rate id}) or its cheapest, and start its payment (confirming
    it at once with a ``payment_method``). Raises, before anything changes: InvalidPaymentMethod (a
    method the provider never accepts), EmptyCart, OutOfStock, ValidationError naming
    ``shipping_rates``, NoShippingRate, AmountOutOfRange. After the order exists,
    raises nothing about the payment: the order tells how it went."""
    if payment_method:
        payment_method_check(payment_method=payment_method)
    opened: list[Payment] = []
    placed = order_place_once(
        buyer=buyer,
        shipping_address=shipping_address,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        amount_limits=AMOUNT_LIMITS,
        shipping_rates=shipping_rates,
        # The first payment attempt is opened in the transaction that places the order.
        on_placed=lambda order: opened.append(payment_open(order=order)),
    )
    order = placed.order
    if placed.created:
        _checkout_payment(order=order, payment_method=payment_method, idempotency_key=idempotency_key, opened=opened[0])
    elif _payment_unfinished(order=order):
        _checkout_payment(order=order, payment_method=payment_method, idempotency_key=idempotency_key)
    return order


def _payment_unfinished(*, order: Order) -> bool:
    """Whether the request that placed ``order`` died before its payment got an answer: the order
    is still payable and its attempt (if any) is neither answered nor failed."""
    order.refresh_from_db()
    if order.status != OrderStatus.PENDING_PAYMENT or order.needs_review:
        return False
    latest = payment_latest(order=order)
    return latest is None or latest.status == PaymentStatus.PENDING


def _checkout_payment(
    *, order: Order, payment_method: str | None, idempotency_key: str | None, opened: Payment | None = None
) -> None:
    """Pay (or only start, without a ``payment_method``) the order's payment: ``opened``, the
    attempt opened with an order this request placed, else its latest attempt."""
    with provider_budget():
        try:
            if payment_method:
                checkout_pay(order=order, payment_method=payment_method, idempotency_key=idempotency_key, opened=opened)
            else:
                latest = opened or payment_latest(order=order)
                if latest is None:
                    payment_start(order=order)
                elif payment_startable(payment=latest):
                    payment_begin(payment=latest, number=order.number)
        except InvalidPaymentMethod as error:
            latest = payment_latest(order=order)
            if latest is not None:
                payment_mark_failed(payment=latest, failure_code=InvalidPaymentMethod.default_code, message=str(error))
        except (PaymentProviderUnavailable, ProviderError):
            logger.warning("payment for order %s not finished: provider unavailable", order.number)
        except InvalidTransition:
            logger.info("order %s changed while its payment ran; answered as it stands", order.number)


def checkout_pay(
    *, order: Order, payment_method: str, idempotency_key: str | None = None, opened: Payment | None = None
) -> Payment:
    """Confirm the order's open payment (or a new attempt) with ``payment_method``; ``opened``: the
    attempt opened with the order in this request (the order is then as it was just placed, and
    is not read again).

    Returns the Payment: ``succeeded`` (the order is paid), ``failed`` with a ``failure_code`` (the
    order stays payable). Raises InvalidTransition when the order is not payable, or stops being
    payable while the provider charges (the charge is refunded), PaymentUnderReview,
    AmountOutOfRange, InvalidPaymentMethod, or PaymentProviderUnavailable (the attempt stays
    ``pending``; the webhook or the sync finishes it, and a retry with the same key is safe)."""
    if opened is None:
        order.refresh_from_db()
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise InvalidTransition.refused(status=order.status, change="be paid")
        if order.needs_review:
            # A payment whose amount did not match already moved money: staff settle it before any other.
            raise PaymentUnderReview()
    order_total_check(total=order.total, currency=order.currency, limits=AMOUNT_LIMITS)
    with provider_budget():
        try:
            payment = opened or payment_latest(order=order)
            if payment is not None and payment_startable(payment=payment):
                # Opened with the order, or left by a request that died before the provider
                # answered: sent (again) under its own key.
                payment = payment_begin(payment=payment, number=order.number)
            elif payment is None or payment.status not in OPEN_STATUSES or not payment.reference:
                payment = payment_start(order=order)
            # One confirmation per client request: the client's Idempotency-Key (its retries are
            # answered by the idempotency layer, or reach here again with the same key), else a
            # fresh key, so a buyer retrying after topping up the card is not answered the old decline.
            suffix = idempotency_key or uuid.uuid4().hex
            result = payment_confirm(
                payment=payment,
                payment_method=payment_method,
                idempotency_key=f"order-{order.number}-attempt-{payment.attempt}-confirm-{suffix}",
            )
        except InvalidPaymentMethodError as error:
            raise InvalidPaymentMethod(str(error)) from error
        except ProviderError as error:
            logger.warning("payment provider failed for order %s: %s", order.number, error)
            raise PaymentProviderUnavailable() from error
        outcome = payment_apply_result(payment=payment, result=result, note=f"paid with {payment.provider}")
    if outcome == "paid":
        return payment  # this request paid it: that is the answer, whatever happened since
    status = Order.objects.values_list("status", flat=True).get(pk=order.pk)
    if outcome == "refund" or status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID):
        # Cancelled or expired while the provider worked: whatever it did is not this order's
        # payment (a charge is being refunded, an attempt was cancelled).
        raise InvalidTransition.refused(status=status, change="be paid")
    return payment


def checkout_cancel(*, order: Order, actor: User | None, note: str = "cancelled by the buyer") -> Order:
    """Cancel a pending or paid order: stock returns and, in the same transaction, a refund of
    every charge it holds is recorded; after commit the refunds are sent and open attempts are
    cancelled with the provider. Raises InvalidTransition once anything has shipped."""
    with transaction.atomic():
        locked = order_cancel(order=order, actor=actor, note=note)
        refunds = payments_refund_cancelled(order=locked, actor=actor)
        transaction.on_commit(lambda: _settle_after_cancel(order_id=locked.pk, refunds=refunds))
    return locked


def _settle_after_cancel(*, order_id: int, refunds: list[Refund]) -> None:
    with provider_budget():
        for refund in refunds:
            refund_send(refund=refund)
        payments_cancel_open(order_id=order_id)


def checkout_expire(*, now=None) -> list[str]:
    """Expire orders unpaid for ORDER_RESERVATION_MINUTES (never one that ``needs_review``) and
    cancel their payment attempts with the provider; returns their numbers. Idempotent."""
    expired = orders_expire(now=now)
    for order in expired:
        payments_cancel_open(order_id=order.pk)
    return [order.number for order in expired]


# --- what staff do (the admin's actions call these) ---------------------------------------------


def checkout_review_accept(*, order: Order, staff: User) -> Order:
    """Accept a ``needs_review`` payment as it is: what the provider received pays the order (an
    order still pending becomes ``paid``) and the flag is cleared. Any other charge of the order
    is left to the refund sweep. Raises InvalidTransition when the order is not flagged or no
    payment of it received anything."""
    with transaction.atomic():
        locked = lock_order(pk=order.pk)
        if not locked.needs_review:
            raise InvalidTransition("This order does not need a review.", extra={"status": locked.status})
        payments = lock_payments_of_order(order_id=locked.pk)
        captured = [payment for payment in payments if payment.status in CAPTURED_STATUSES]
        if locked.status == OrderStatus.PENDING_PAYMENT:
            if not captured:
                raise InvalidTransition("No payment of this order received anything to accept.")
            settling = captured[0]
            Payment.objects.filter(pk=settling.pk).update(settles_order=True)
            ledger_sale(order=locked, key=f"sale:{locked.number}", note="payment accepted by staff")
            order_transition(
                order=locked,
                to=OrderStatus.PAID,
                actor=staff,
                note=f"payment of {settling.amount_received} {settling.currency} accepted by staff",
            )
            order_paid_notify(order=locked)
        order_review_close(order=locked, note="payment accepted", actor=staff)
    return locked


def checkout_review_refund(*, order: Order, staff: User) -> Order:
    """Settle a ``needs_review`` order by giving back what the provider received: the order is
    cancelled (stock returns), every charge is refunded for the amount it received (never the
    amount asked), and the flag is cleared. Raises InvalidTransition when the order is not flagged
    or has shipped."""
    return checkout_cancel_by_staff(
        order=order, staff=staff, note="cancelled by staff after review: refunded", under_review=True
    )


def checkout_cancel_by_staff(
    *, order: Order, staff: User, note: str = "cancelled by staff", under_review: bool = False
) -> Order:
    """Cancel and refund an order that has not shipped, as staff: stock returns and every charge is
    refunded for what it received, a flagged order's included (a person decided), which closes its
    review. Raises InvalidTransition once anything has shipped, and, with ``under_review``, when
    the order is not (or no longer: another staff member settled it meanwhile) under review."""
    with transaction.atomic():
        if under_review and not lock_order(pk=order.pk).needs_review:  # re-checked under the lock
            raise InvalidTransition("This order does not need a review.", extra={"status": order.status})
        locked = order_cancel(order=order, actor=staff, note=note)
        order_review_close(order=locked, note="what was received is refunded", actor=staff)
        refunds = payments_refund_cancelled(order=locked, actor=staff)
        transaction.on_commit(lambda: _settle_after_cancel(order_id=locked.pk, refunds=refunds))
    return locked


def checkout_refund_retry(*, refund: Refund, staff: User) -> Refund | None:
    """Ask again for a refund that failed, as a new refund (its own key) of the same amount, or
    of what is left when that is less. A refund of lines is asked again for the same lines and
    shipping (its units became refundable again when it failed; nothing is restocked twice), and
    raises RefundExceeds when they were refunded since. Raises InvalidTransition for a refund that
    did not fail."""
    if refund.status != RefundStatus.FAILED:
        raise InvalidTransition(f"Only a failed refund can be retried; this one is {refund.status}.")
    reason = f"retry of {refund.idempotency_key}"
    if refund.store_order_id is not None:
        retry = refund_lines(
            store_order=refund.store_order,
            lines=list(refund.lines.values_list("line_id", "quantity")),
            shipping=refund.shipping_amount > 0,
            restock=False,
            reason=reason,
            actor=staff,
        )
        with provider_budget():
            return refund_send(refund=retry)
    try:
        retry = refund_request(payment=refund.payment, amount=refund.amount, reason=reason, actor=staff)
    except RefundExceeds:  # part of it came back since (say, from the provider's dashboard)
        retry = refund_request(payment=refund.payment, reason=reason, actor=staff)
    if retry is None:
        return None
    with provider_budget():
        return refund_send(refund=retry)
