"""A payment provider that needs no network, mirroring Stripe test mode.

Payment methods: ``pm_card_visa`` succeeds, ``pm_card_chargeDeclined`` declines with
``card_declined``, ``pm_card_chargeDeclinedInsufficientFunds`` with ``insufficient_funds``; the
test card numbers 4242424242424242, 4000000000000002 and 4000000000009995 behave the same.

It plays a remote service, so it keeps its own books in its own table (``SimulatedPayment``),
shared by every app server and worker; it never reads or writes Bazaar's orders or payments.
Each call runs in its own transaction with the row locked, and every outcome is a function of
the stored state and the arguments, so a retried call answers what the first one did.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from apps.payments.models import SimulatedPayment, SimulatedRefund
from apps.payments.providers.base import (
    MAX_AMOUNT,
    MIN_AMOUNT,
    InvalidPaymentMethodError,
    PaymentResult,
    PaymentStatus,
    ProviderError,
    ProviderEvent,
    RefundResult,
    RefundStatus,
    WebhookSignatureError,
)

SUCCEEDS = ""
METHOD_OUTCOMES = {
    "pm_card_visa": SUCCEEDS,
    "pm_card_chargeDeclined": "card_declined",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "4242424242424242": SUCCEEDS,
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
}
DECLINE_MESSAGES = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
}


def _result(payment: SimulatedPayment) -> PaymentResult:
    return PaymentResult(
        reference=payment.reference,
        status=payment.status,
        amount=payment.amount,
        currency=payment.currency,
        failure_code=payment.failure_code,
        failure_message=DECLINE_MESSAGES.get(payment.failure_code, ""),
        raw={"order": payment.order_reference},
    )


class SimulatedProvider:
    name = "simulated"

    @staticmethod
    def _locked(payment_ref: str) -> SimulatedPayment:
        payment = SimulatedPayment.objects.select_for_update().filter(reference=payment_ref).first()
        if payment is None:
            raise ProviderError(f"No simulated payment {payment_ref!r}.", retryable=False)
        return payment

    def check_method(self, *, payment_method: str) -> None:
        if payment_method not in METHOD_OUTCOMES:
            raise InvalidPaymentMethodError(
                f"Unknown payment method {payment_method!r}; use pm_card_visa, pm_card_chargeDeclined, "
                "pm_card_chargeDeclinedInsufficientFunds or a Stripe test card number."
            )

    def start(self, *, amount: Decimal, currency: str, reference: str, idempotency_key: str) -> PaymentResult:
        if not MIN_AMOUNT <= amount <= MAX_AMOUNT:  # as Stripe: amount_too_small / amount_too_large
            raise ProviderError(f"Amount {amount} must be between {MIN_AMOUNT} and {MAX_AMOUNT}.", retryable=False)
        existing = SimulatedPayment.objects.filter(start_key=idempotency_key).first()
        if existing is not None:
            if (existing.amount, existing.currency) != (amount, currency):
                raise ProviderError("Idempotency key reused with another amount or currency.", retryable=False)
            return _result(existing)
        try:
            with transaction.atomic():
                payment = SimulatedPayment.objects.create(
                    reference=f"sim_pi_{secrets.token_hex(12)}",
                    start_key=idempotency_key,
                    order_reference=reference,
                    amount=amount,
                    currency=currency,
                    status=PaymentStatus.PENDING,
                )
        except IntegrityError:  # the same key raced us: answer what the winner made
            payment = SimulatedPayment.objects.get(start_key=idempotency_key)
        return _result(payment)

    def retrieve(self, *, payment_ref: str) -> PaymentResult:
        payment = SimulatedPayment.objects.filter(reference=payment_ref).first()
        if payment is None:
            raise ProviderError(f"No simulated payment {payment_ref!r}.", retryable=False)
        return _result(payment)

    @transaction.atomic
    def confirm(self, *, payment_ref: str, payment_method: str, idempotency_key: str) -> PaymentResult:
        self.check_method(payment_method=payment_method)
        payment = self._locked(payment_ref)
        if payment.status in (PaymentStatus.PENDING, PaymentStatus.FAILED):
            decline = METHOD_OUTCOMES[payment_method]
            payment.status = PaymentStatus.FAILED if decline else PaymentStatus.SUCCEEDED
            payment.failure_code = decline
            payment.save(update_fields=["status", "failure_code"])
        return _result(payment)

    @transaction.atomic
    def cancel(self, *, payment_ref: str, idempotency_key: str) -> PaymentResult:
        payment = self._locked(payment_ref)
        if payment.status in (PaymentStatus.PENDING, PaymentStatus.FAILED, PaymentStatus.REQUIRES_ACTION):
            payment.status = PaymentStatus.CANCELLED
            payment.save(update_fields=["status"])
        return _result(payment)

    @transaction.atomic
    def refund(self, *, payment_ref: str, amount: Decimal, idempotency_key: str) -> RefundResult:
        """Refund ``amount`` of a succeeded payment, whole or in part: at most what is left (more is
        refused, as Stripe's ``amount_too_large``); a retried key answers the first refund."""
        done = SimulatedRefund.objects.filter(key=idempotency_key).first()
        if done is not None:
            return RefundResult(reference=done.reference, status=RefundStatus.SUCCEEDED, amount=done.amount)
        payment = self._locked(payment_ref)
        if payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED):
            raise ProviderError("This payment has no successful charge to refund.", retryable=False)
        left = payment.amount - payment.amount_refunded
        if left <= 0:
            # As Stripe's charge_already_refunded: the money is back already.
            return RefundResult(reference="", status=RefundStatus.SUCCEEDED, amount=Decimal("0.00"))
        if amount <= 0 or amount > left:
            raise ProviderError(f"Refund amount {amount} is greater than the {left} left to refund.", retryable=False)
        refund = SimulatedRefund.objects.create(
            key=idempotency_key,
            reference=f"sim_re_{secrets.token_hex(12)}",
            payment_reference=payment_ref,
            amount=amount,
        )
        payment.amount_refunded += amount
        payment.status = (
            PaymentStatus.REFUNDED if payment.amount_refunded >= payment.amount else PaymentStatus.PARTIALLY_REFUNDED
        )
        payment.refund_reference = refund.reference
        payment.save(update_fields=["amount_refunded", "status", "refund_reference"])
        return RefundResult(reference=refund.reference, status=RefundStatus.SUCCEEDED, amount=amount)

    def refund_retrieve(self, *, refund_ref: str) -> RefundResult:
        refund = SimulatedRefund.objects.filter(reference=refund_ref).first()
        if refund is None:
            raise ProviderError(f"No simulated refund {refund_ref!r}.", retryable=False)
        return RefundResult(reference=refund.reference, status=RefundStatus.SUCCEEDED, amount=refund.amount)

    def parse_webhook(self, *, payload: bytes, signature: str) -> ProviderEvent:
        raise WebhookSignatureError("The simulated provider sends no webhooks.")

    def webhook_event(self, *, raw: dict[str, Any]) -> ProviderEvent:
        raise WebhookSignatureError("The simulated provider sends no webhooks.")
