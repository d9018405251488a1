"""A payment provider that needs no network, mirroring Stripe test mode.

Payment methods: ``pm_card_visa`` succeeds, ``pm_card_chargeDeclined`` declines with
``card_declined``, ``pm_card_chargeDeclinedInsufficientFunds`` with ``insufficient_funds``; the
test card numbers 4242424242424242, 4000000000000002 and 4000000000009995 behave the same.

It plays a remote service, so it keeps its own books in its own table (``SimulatedPayment``),
shared by every app server and worker; it never reads or writes Bazaar's orders or payments.
Each call runs in its own transaction with the row locked, and every outcome is a function of
the stored state and the arguments, so a retried call answers what the first one did.

Sellers' payout accounts, transfers and reversals are kept the same way (SimulatedConnectAccount,
SimulatedTransfer, SimulatedTransferReversal). A payment's charge is ``sim_ch_`` + the suffix of its
``sim_pi_`` reference. The onboarding link is a page of the app (``/payouts/simulated/onboard/<token>/``)
that finishes onboarding when opened: ``onboarding_complete`` is what that page calls.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from apps.core.db import own_statement
from apps.payments.models import (
    SimulatedAccountLink,
    SimulatedConnectAccount,
    SimulatedPayment,
    SimulatedRefund,
    SimulatedTransfer,
    SimulatedTransferReversal,
)
from apps.payments.providers.base import (
    MAX_AMOUNT,
    MIN_AMOUNT,
    AccountLinkResult,
    ConnectAccountResult,
    InvalidPaymentMethodError,
    PaymentResult,
    PaymentStatus,
    ProviderError,
    ProviderEvent,
    RefundResult,
    RefundStatus,
    ReversalResult,
    TransferResult,
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
CHARGED = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
# As Stripe's account links: short-lived, opened once by the seller right after asking.
LINK_LIFETIME = timedelta(minutes=5)


def charge_reference(payment_ref: str) -> str:
    """The charge of a simulated payment (``sim_pi_X`` → ``sim_ch_X``)."""
    return "sim_ch_" + payment_ref.removeprefix("sim_pi_")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _account_result(account: SimulatedConnectAccount) -> ConnectAccountResult:
    return ConnectAccountResult(
        reference=account.reference,
        details_submitted=account.details_submitted,
        payouts_enabled=account.payouts_enabled,
        raw={"email": account.email, "country": account.country},
    )


def _transfer_result(transfer: SimulatedTransfer) -> TransferResult:
    return TransferResult(
        reference=transfer.reference,
        amount=transfer.amount,
        currency=transfer.currency,
        reversed_amount=transfer.amount_reversed,
        raw={"destination": transfer.destination, "transfer_group": transfer.transfer_group},
    )


def _result(payment: SimulatedPayment) -> PaymentResult:
    return PaymentResult(
        reference=payment.reference,
        status=payment.status,
        amount=payment.amount,
        currency=payment.currency,
        failure_code=payment.failure_code,
        failure_message=DECLINE_MESSAGES.get(payment.failure_code, ""),
        raw={"order": payment.order_reference},
        charge_reference=charge_reference(payment.reference) if payment.status in CHARGED else "",
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
        # A new key (the usual case) is one insert; a retried one fails on the unique key and
        # answers what the first call made.
        try:
            with own_statement():
                payment = SimulatedPayment.objects.create(
                    reference=f"sim_pi_{secrets.token_hex(12)}",
                    start_key=idempotency_key,
                    order_reference=reference,
                    amount=amount,
                    currency=currency,
                    status=PaymentStatus.PENDING,
                )
        except IntegrityError:
            payment = SimulatedPayment.objects.get(start_key=idempotency_key)
            if (payment.amount, payment.currency) != (amount, currency):
                raise ProviderError(
                    "Idempotency key reused with another amount or currency.", retryable=False
                ) from None
        return _result(payment)

    def retrieve(self, *, payment_ref: str) -> PaymentResult:
        payment = SimulatedPayment.objects.filter(reference=payment_ref).first()
        if payment is None:
            raise ProviderError(f"No simulated payment {payment_ref!r}.", retryable=False)
        return _result(payment)

    def confirm(self, *, payment_ref: str, payment_method: str, idempotency_key: str) -> PaymentResult:
        """Charge a pending (or declined) payment: one conditional update, then the row as it is."""
        self.check_method(payment_method=payment_method)
        decline = METHOD_OUTCOMES[payment_method]
        SimulatedPayment.objects.filter(
            reference=payment_ref, status__in=(PaymentStatus.PENDING, PaymentStatus.FAILED)
        ).update(status=PaymentStatus.FAILED if decline else PaymentStatus.SUCCEEDED, failure_code=decline)
        return self.retrieve(payment_ref=payment_ref)

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

    # --- paying sellers ----------------------------------------------------------------------------

    def connect_account_create(self, *, email: str, country: str | None, idempotency_key: str) -> ConnectAccountResult:
        existing = SimulatedConnectAccount.objects.filter(key=idempotency_key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    existing = SimulatedConnectAccount.objects.create(
                        key=idempotency_key,
                        reference=f"sim_acct_{secrets.token_hex(8)}",
                        email=email,
                        country=country or "",
                    )
            except IntegrityError:  # the same key raced us: answer what the winner made
                existing = SimulatedConnectAccount.objects.get(key=idempotency_key)
        return _account_result(existing)

    def connect_account_retrieve(self, *, account_ref: str) -> ConnectAccountResult:
        account = SimulatedConnectAccount.objects.filter(reference=account_ref).first()
        if account is None:
            raise ProviderError(f"No simulated account {account_ref!r}.", retryable=False)
        return _account_result(account)

    def connect_account_link(self, *, account_ref: str, refresh_url: str, return_url: str) -> AccountLinkResult:
        """A link to the app's own onboarding page (a path: the caller makes it absolute), valid
        for LINK_LIFETIME; its token is unguessable and opens this account only."""
        account = SimulatedConnectAccount.objects.filter(reference=account_ref).first()
        if account is None:
            raise ProviderError(f"No simulated account {account_ref!r}.", retryable=False)
        token = secrets.token_urlsafe(32)
        link = SimulatedAccountLink.objects.create(
            token_hash=token_hash(token),
            account=account,
            return_url=return_url,
            expires_at=timezone.now() + LINK_LIFETIME,
        )
        return AccountLinkResult(url=reverse("simulated-onboard", args=[token]), expires_at=link.expires_at)

    @transaction.atomic
    def onboarding_complete(self, *, token: str) -> tuple[ConnectAccountResult, str] | None:
        """What the seller finishing the form on the link's page does: the account's details are
        submitted and payouts enabled. Returns the account and the link's return URL, or None
        (changing nothing) for an unknown or expired token."""
        link = (
            SimulatedAccountLink.objects.select_related("account")
            .filter(token_hash=token_hash(token), expires_at__gt=timezone.now())
            .first()
        )
        if link is None:
            return None
        account = SimulatedConnectAccount.objects.select_for_update().get(pk=link.account_id)
        account.details_submitted = account.payouts_enabled = True
        account.save(update_fields=["details_submitted", "payouts_enabled"])
        return _account_result(account), link.return_url

    @transaction.atomic
    def transfer_create(
        self,
        *,
        amount: Decimal,
        currency: str,
        destination: str,
        transfer_group: str,
        source_transaction: str | None,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> TransferResult:
        """As Stripe: the destination must be able to receive transfers (payouts enabled); a
        source charge must be a charged payment in the same currency, and all transfers from it
        at most its amount. A retried key answers the first transfer; the same key with another
        amount, currency or destination is refused."""
        done = SimulatedTransfer.objects.filter(key=idempotency_key).first()
        if done is not None:
            if (done.amount, done.currency, done.destination) != (amount, currency, destination):
                raise ProviderError("Idempotency key reused with other transfer parameters.", retryable=False)
            return _transfer_result(done)
        if amount <= 0:
            raise ProviderError("A transfer's amount must be positive.", retryable=False)
        account = SimulatedConnectAccount.objects.select_for_update().filter(reference=destination).first()
        if account is None:
            raise ProviderError(f"No such destination: {destination!r}.", retryable=False)
        if not account.payouts_enabled:
            raise ProviderError(f"The destination account {destination} cannot receive transfers.", retryable=False)
        if source_transaction:
            self._check_source(source_transaction=source_transaction, amount=amount, currency=currency)
        transfer = SimulatedTransfer.objects.create(
            key=idempotency_key,
            reference=f"sim_tr_{secrets.token_hex(12)}",
            destination=destination,
            amount=amount,
            currency=currency,
            transfer_group=transfer_group,
            source_transaction=source_transaction or "",
            metadata=metadata,
        )
        return _transfer_result(transfer)

    @staticmethod
    def _check_source(*, source_transaction: str, amount: Decimal, currency: str) -> None:
        payment_ref = "sim_pi_" + source_transaction.removeprefix("sim_ch_")
        payment = SimulatedPayment.objects.select_for_update().filter(reference=payment_ref).first()
        if payment is None or payment.status not in CHARGED:
            raise ProviderError(f"No such charge: {source_transaction!r}.", retryable=False)
        if payment.currency != currency:
            raise ProviderError("The transfer's currency differs from its source charge's.", retryable=False)
        sent = SimulatedTransfer.objects.filter(source_transaction=source_transaction).aggregate(total=Sum("amount"))[
            "total"
        ] or Decimal("0.00")
        if sent + amount > payment.amount:
            raise ProviderError(
                f"Transfers of {sent + amount} would exceed the {payment.amount} of charge {source_transaction}.",
                retryable=False,
            )

    @transaction.atomic
    def transfer_reverse(self, *, transfer_ref: str, amount: Decimal, idempotency_key: str) -> ReversalResult:
        done = SimulatedTransferReversal.objects.filter(key=idempotency_key).first()
        if done is not None:
            return ReversalResult(reference=done.reference, amount=done.amount)
        transfer = SimulatedTransfer.objects.select_for_update().filter(reference=transfer_ref).first()
        if transfer is None:
            raise ProviderError(f"No such transfer: {transfer_ref!r}.", retryable=False)
        left = transfer.amount - transfer.amount_reversed
        if amount <= 0 or amount > left:
            raise ProviderError(
                f"Reversal amount {amount} is greater than the {left} left on transfer {transfer_ref}.",
                retryable=False,
            )
        reversal = SimulatedTransferReversal.objects.create(
            key=idempotency_key, reference=f"sim_trr_{secrets.token_hex(12)}", transfer=transfer, amount=amount
        )
        transfer.amount_reversed += amount
        transfer.save(update_fields=["amount_reversed"])
        return ReversalResult(reference=reversal.reference, amount=amount)
