"""Stripe as a payment provider, through the official SDK's ``StripeClient``.

One PaymentIntent per payment attempt: amounts in minor units, lower-case currency, the order number
in ``metadata[order]``. Every write carries the caller's idempotency key as Stripe's
``Idempotency-Key``, so the SDK's own retries (connection errors, 409 and 5xx; ``max_network_retries``)
and Bazaar's retries replay the first answer instead of charging or refunding twice.

Bazaar only ever sends PaymentMethod ids (``pm_...``), never card numbers. Intents accept cards
only (``payment_method_types=["card"]``): cards never redirect, so a server-side confirm needs no
``return_url``.

Errors: a card decline is a result (status ``failed`` with a ``failure_code``), not an exception;
an unknown or unusable payment method raises InvalidPaymentMethodError; anything else the SDK raises
becomes ProviderError (retryable for network errors, Stripe 5xx and rate limits). No Stripe
exception leaves this module.

Sellers are paid through Stripe Connect: each store has an Express account (``transfers``
capability), onboarded through Stripe-hosted account links; the platform sends each store its
share with a Transfer (``destination`` the account, ``source_transaction`` the buyer's charge,
``transfer_group`` the order number) and takes it back, when the buyer is refunded, with a
transfer reversal. Each write carries the caller's stable idempotency key, as payments do.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.core.money import from_minor_units, to_minor_units
from apps.payments.providers.base import (
    AccountLinkResult,
    ConnectAccountResult,
    InvalidPaymentMethodError,
    PaymentResult,
    PaymentStatus,
    ProviderError,
    ProviderEvent,
    RefundResult,
    ReversalResult,
    TransferResult,
    WebhookSignatureError,
)
from apps.payments.providers.budget import remaining_seconds

logger = logging.getLogger(__name__)

LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")
NETWORK_RETRIES = 2
# connect, read: one HTTP exchange never waits the SDK's default 80 s; and inside a request, all
# calls together never outlast the request's budget (providers/budget.py).
TIMEOUT_SECONDS = (5, 15)
PAYMENT_METHOD_ID = re.compile(r"pm_[A-Za-z0-9_]{1,250}")
CARD_NUMBER = re.compile(r"[\d\s-]{12,}")
UNEXPECTED_STATE = "payment_intent_unexpected_state"
ALREADY_REFUNDED = "charge_already_refunded"
# Stripe's "declined, no specific reason" (what pm_card_chargeDeclined gives); Bazaar's contract
# reports it as the error code card_declined. Any other decline_code is reported as it is.
GENERIC_DECLINE = "generic_decline"
CARD_DECLINED = "card_declined"

INTENT_STATUSES = {
    "requires_payment_method": PaymentStatus.PENDING,
    "requires_confirmation": PaymentStatus.PENDING,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "processing": PaymentStatus.PENDING,
    "requires_capture": PaymentStatus.PENDING,  # only with manual capture, which Bazaar never asks for
    "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.CANCELLED,
}
REFUND_STATUSES = {
    "succeeded": "succeeded",
    "pending": "pending",
    "requires_action": "pending",
    "failed": "failed",
    "canceled": "failed",
}
RETRYABLE_ERRORS = (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError)


def stripe_check_keys(*, secret_key: str, env: str, allow_live: bool) -> None:
    """Refuse live keys (``sk_live_``, ``rk_live_``) unless ``allow_live`` and ``env == "prod"``.

    Raises ImproperlyConfigured (without echoing the key)."""
    if (secret_key or "").strip().startswith(LIVE_KEY_PREFIXES) and not (allow_live and env == "prod"):
        raise ImproperlyConfigured(
            "STRIPE_SECRET_KEY is a live key; live keys are refused unless STRIPE_ALLOW_LIVE is true and ENV=prod."
        )


def _failure_code(error: dict[str, Any] | None) -> str:
    """Bazaar's failure code for a Stripe error object: its decline_code when it gives one, else its code."""
    if not error:
        return ""
    decline_code = error.get("decline_code") or ""
    if decline_code == GENERIC_DECLINE:
        return CARD_DECLINED
    return decline_code or error.get("code") or ""


def _payment_result(intent: dict[str, Any]) -> PaymentResult:
    """A PaymentIntent (as a dict) as Bazaar sees it. An intent back in requires_payment_method
    with a last_payment_error is a declined attempt: ``failed``, payable again with another method."""
    stripe_status = intent.get("status", "")
    status = INTENT_STATUSES.get(stripe_status)
    if status is None:
        logger.warning("unknown PaymentIntent status %r for %s; treated as pending", stripe_status, intent.get("id"))
        status = PaymentStatus.PENDING
    error = intent.get("last_payment_error") or {}
    if stripe_status == "requires_payment_method" and error:
        status = PaymentStatus.FAILED
    minor = intent.get("amount_received") if status == PaymentStatus.SUCCEEDED else None
    return PaymentResult(
        reference=intent["id"],
        status=status,
        amount=from_minor_units(minor or intent.get("amount") or 0),
        currency=(intent.get("currency") or "").upper(),
        failure_code=_failure_code(error) if status == PaymentStatus.FAILED else "",
        failure_message=(error.get("message") or "") if status == PaymentStatus.FAILED else "",
        client_secret=intent.get("client_secret") or "",
        charge_reference=_charge_id(intent.get("latest_charge")) if status == PaymentStatus.SUCCEEDED else "",
        # The client secret has its own field (shown to the owner only); keep it out of the raw copy.
        raw={key: value for key, value in intent.items() if key != "client_secret"},
    )


def _charge_id(charge: Any) -> str:
    """An intent's ``latest_charge``: an id, or the charge itself when expanded."""
    return (charge.get("id") if isinstance(charge, dict) else charge) or ""


def _account_result(account: dict[str, Any]) -> ConnectAccountResult:
    return ConnectAccountResult(
        reference=account["id"],
        details_submitted=bool(account.get("details_submitted")),
        payouts_enabled=bool(account.get("payouts_enabled")),
        raw=account,
    )


def _transfer_result(transfer: dict[str, Any]) -> TransferResult:
    return TransferResult(
        reference=transfer["id"],
        amount=from_minor_units(transfer.get("amount") or 0),
        currency=(transfer.get("currency") or "").upper(),
        reversed_amount=from_minor_units(transfer.get("amount_reversed") or 0),
        raw=transfer,
    )


class BudgetedRequestsClient(stripe.RequestsClient):
    """The SDK's HTTP client, each exchange (and each retry's back-off) cut to what is left of the
    request's provider budget; once it is spent, the call fails as a timeout, without retrying."""

    def request(self, method, url, headers, post_data=None):
        left = remaining_seconds()
        if left is not None:
            if left <= 0.05:
                raise stripe.APIConnectionError(
                    "The request's time for the payment provider is spent (PAYMENT_PROVIDER_BUDGET_SECONDS).",
                    should_retry=False,
                )
            self._timeout = tuple(min(part, left) for part in TIMEOUT_SECONDS)
        return super().request(method, url, headers, post_data)

    def _sleep_time_seconds(self, num_retries: int) -> float:
        sleep = super()._sleep_time_seconds(num_retries)
        left = remaining_seconds()
        return sleep if left is None else max(0.0, min(sleep, left - 0.05))


def _refund_result(data: dict[str, Any]) -> RefundResult:
    """A Refund (as a dict) as Bazaar sees it: Stripe's ``pending`` and ``requires_action`` are pending."""
    return RefundResult(
        reference=data["id"],
        status=REFUND_STATUSES.get(data.get("status") or "", "pending"),
        amount=from_minor_units(data.get("amount") or 0),
        raw=data,
    )


def _provider_error(error: stripe.StripeError) -> ProviderError:
    retryable = isinstance(error, RETRYABLE_ERRORS)
    return ProviderError(f"Stripe {type(error).__name__}: {error}", retryable=retryable)


def _error_body(error: stripe.StripeError) -> dict[str, Any]:
    body = error.json_body if isinstance(error.json_body, dict) else {}
    return body.get("error") if isinstance(body.get("error"), dict) else {}


class StripeProvider:
    """Payments through Stripe's PaymentIntents API. Configuration: STRIPE_SECRET_KEY (required),
    STRIPE_API_BASE (optional, e.g. a local stand-in), STRIPE_WEBHOOK_SECRET (webhooks)."""

    name = "stripe"

    def __init__(self) -> None:
        stripe_check_keys(
            secret_key=settings.STRIPE_SECRET_KEY, env=settings.ENV, allow_live=settings.STRIPE_ALLOW_LIVE
        )
        if not settings.STRIPE_SECRET_KEY:
            raise ImproperlyConfigured("The stripe payment provider needs STRIPE_SECRET_KEY.")
        api_base = settings.STRIPE_API_BASE.rstrip("/")
        self._client = stripe.StripeClient(
            api_key=settings.STRIPE_SECRET_KEY,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=NETWORK_RETRIES,
            http_client=BudgetedRequestsClient(timeout=TIMEOUT_SECONDS),
        )

    def check_method(self, *, payment_method: str) -> None:
        if PAYMENT_METHOD_ID.fullmatch(payment_method or ""):
            return
        if CARD_NUMBER.fullmatch(payment_method or ""):
            raise InvalidPaymentMethodError(
                "Card numbers are never sent to Stripe; collect the card with Stripe.js and send its pm_... id."
            )
        raise InvalidPaymentMethodError("Stripe takes a PaymentMethod id (pm_...).")

    def start(self, *, amount: Decimal, currency: str, reference: str, idempotency_key: str) -> PaymentResult:
        try:
            intent = self._client.v1.payment_intents.create(
                {
                    "amount": to_minor_units(amount),
                    "currency": currency.lower(),
                    "metadata": {"order": reference},
                    "payment_method_types": ["card"],
                },
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return _payment_result(intent.to_dict())

    def confirm(self, *, payment_ref: str, payment_method: str, idempotency_key: str) -> PaymentResult:
        """A decline is a ``failed`` result; a payment method Stripe does not know raises
        InvalidPaymentMethodError; an intent no longer confirmable (already succeeded or cancelled)
        answers its current state; anything else raises ProviderError."""
        self.check_method(payment_method=payment_method)
        try:
            intent = self._client.v1.payment_intents.confirm(
                payment_ref, {"payment_method": payment_method}, {"idempotency_key": idempotency_key}
            )
        except stripe.CardError as error:
            return self._declined(error, payment_ref=payment_ref)
        except stripe.InvalidRequestError as error:
            if error.param == "payment_method":
                raise InvalidPaymentMethodError(f"Stripe refused the payment method: {error.user_message}") from error
            if error.code == UNEXPECTED_STATE:
                return self.retrieve(payment_ref=payment_ref)
            raise _provider_error(error) from error
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return _payment_result(intent.to_dict())

    def _declined(self, error: stripe.CardError, *, payment_ref: str) -> PaymentResult:
        body = _error_body(error)
        intent = body.get("payment_intent")
        result = _payment_result(intent) if isinstance(intent, dict) else self.retrieve(payment_ref=payment_ref)
        return replace(
            result,
            status=PaymentStatus.FAILED,
            failure_code=_failure_code(body) or CARD_DECLINED,
            failure_message=error.user_message or "",
        )

    def retrieve(self, *, payment_ref: str) -> PaymentResult:
        try:
            intent = self._client.v1.payment_intents.retrieve(payment_ref)
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return _payment_result(intent.to_dict())

    def cancel(self, *, payment_ref: str, idempotency_key: str) -> PaymentResult:
        """Cancel the intent; one that can no longer be cancelled (succeeded, already cancelled)
        answers its current state, so the caller sees a success it must refund."""
        try:
            intent = self._client.v1.payment_intents.cancel(payment_ref, None, {"idempotency_key": idempotency_key})
        except stripe.InvalidRequestError as error:
            if error.code != UNEXPECTED_STATE:
                raise _provider_error(error) from error
            return self.retrieve(payment_ref=payment_ref)
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return _payment_result(intent.to_dict())

    def refund(self, *, payment_ref: str, amount: Decimal, idempotency_key: str) -> RefundResult:
        """Refund ``amount`` of the intent's charge. A charge already fully refunded (say, from
        Stripe's dashboard) answers ``succeeded`` with no reference and amount 0: the money is back."""
        try:
            refund = self._client.v1.refunds.create(
                {"payment_intent": payment_ref, "amount": to_minor_units(amount)},
                {"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as error:
            if error.code != ALREADY_REFUNDED:
                raise _provider_error(error) from error
            return RefundResult(reference="", status="succeeded", amount=Decimal("0.00"), raw=_error_body(error))
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return _refund_result(refund.to_dict())

    def refund_retrieve(self, *, refund_ref: str) -> RefundResult:
        try:
            refund = self._client.v1.refunds.retrieve(refund_ref)
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return _refund_result(refund.to_dict())

    def connect_account_create(self, *, email: str, country: str | None, idempotency_key: str) -> ConnectAccountResult:
        params: dict[str, Any] = {"type": "express", "email": email, "capabilities": {"transfers": {"requested": True}}}
        if country:
            params["country"] = country
        try:
            account = self._client.v1.accounts.create(params, {"idempotency_key": idempotency_key})
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return _account_result(account.to_dict())

    def connect_account_retrieve(self, *, account_ref: str) -> ConnectAccountResult:
        try:
            account = self._client.v1.accounts.retrieve(account_ref)
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return _account_result(account.to_dict())

    def connect_account_link(self, *, account_ref: str, refresh_url: str, return_url: str) -> AccountLinkResult:
        try:
            link = self._client.v1.account_links.create(
                {
                    "account": account_ref,
                    "type": "account_onboarding",
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                }
            )
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return AccountLinkResult(url=link.url, expires_at=datetime.fromtimestamp(link.expires_at, tz=UTC))

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
        params: dict[str, Any] = {
            "amount": to_minor_units(amount),
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": metadata,
        }
        if source_transaction:
            params["source_transaction"] = source_transaction
        try:
            transfer = self._client.v1.transfers.create(params, {"idempotency_key": idempotency_key})
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return _transfer_result(transfer.to_dict())

    def transfer_reverse(self, *, transfer_ref: str, amount: Decimal, idempotency_key: str) -> ReversalResult:
        try:
            reversal = self._client.v1.transfers.reversals.create(
                transfer_ref, {"amount": to_minor_units(amount)}, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        data = reversal.to_dict()
        return ReversalResult(reference=data["id"], amount=from_minor_units(data.get("amount") or 0), raw=data)

    def parse_webhook(self, *, payload: bytes, signature: str) -> ProviderEvent:
        """Verify ``Stripe-Signature`` (HMAC-SHA256, at most 300 s old) and reduce the event. Events
        about connected accounts come from a Connect endpoint with its own secret, often to the same
        URL: the signature is checked with STRIPE_CONNECT_WEBHOOK_SECRET when set, then with
        STRIPE_WEBHOOK_SECRET. Raises WebhookSignatureError for a missing, wrong or stale signature
        (under every secret) and for a body that is not a Stripe event."""
        keys = [key for key in (settings.STRIPE_CONNECT_WEBHOOK_SECRET, settings.STRIPE_WEBHOOK_SECRET) if key]
        if not keys:
            logger.error("a Stripe webhook arrived but STRIPE_WEBHOOK_SECRET is not set")
            keys = [""]
        for secret in keys:
            try:
                event = stripe.Webhook.construct_event(payload, signature, secret)
                break
            except stripe.SignatureVerificationError as error:
                refusal = error
            except (ValueError, TypeError, AttributeError) as error:
                # Not UTF-8, not JSON, or JSON that is not an event object (the SDK calls .get on it).
                raise WebhookSignatureError("The webhook body is not a Stripe event.") from error
        else:
            raise WebhookSignatureError(f"Bad Stripe-Signature: {refusal.user_message}") from refusal
        data = event.to_dict()
        event_data = data.get("data")
        obj = event_data.get("object") if isinstance(event_data, dict) else None
        if not data.get("id") or not data.get("type") or not isinstance(obj, dict):
            raise WebhookSignatureError("The webhook body is not a Stripe event.")
        obj.pop("client_secret", None)  # the event is stored; the secret belongs to the buyer alone
        return _event(data, obj)

    def webhook_event(self, *, raw: dict[str, Any]) -> ProviderEvent:
        """The event ``parse_webhook`` returned, again, from its stored ``raw`` (checked then)."""
        return _event(raw, raw["data"]["object"])


def _event(data: dict[str, Any], obj: dict[str, Any]) -> ProviderEvent:
    event_type = data["type"]
    if obj.get("object") == "payment_intent":
        reference = obj.get("id") or ""
    else:  # charges, refunds, disputes name their intent
        intent = obj.get("payment_intent")
        reference = (intent.get("id") if isinstance(intent, dict) else intent) or ""
    if event_type == "charge.refunded":
        minor = obj.get("amount_refunded")  # all refunded so far, whoever asked
    elif event_type == "payment_intent.succeeded":
        minor = obj.get("amount_received") or obj.get("amount")
    else:
        minor = obj.get("amount")
    failure = obj.get("last_payment_error") if event_type == "payment_intent.payment_failed" else None
    is_refund, is_dispute = obj.get("object") == "refund", obj.get("object") == "dispute"
    is_account = obj.get("object") == "account"
    return ProviderEvent(
        id=data["id"],
        type=event_type,
        payment_reference=reference,
        amount=from_minor_units(minor) if isinstance(minor, int) else None,
        currency=(obj.get("currency") or "").upper(),
        failure_code=_failure_code(failure if isinstance(failure, dict) else None),
        raw=data,
        refund_reference=(obj.get("id") or "") if is_refund else "",
        refund_status=REFUND_STATUSES.get(obj.get("status") or "", "pending") if is_refund else "",
        dispute_reason=(obj.get("reason") or "") if is_dispute else "",
        dispute_status=(obj.get("status") or "") if is_dispute else "",
        charge_reference=_charge_id(obj.get("latest_charge")) if event_type == "payment_intent.succeeded" else "",
        account_reference=(obj.get("id") or "") if is_account else "",
        account_details_submitted=bool(obj.get("details_submitted")) if is_account else None,
        account_payouts_enabled=bool(obj.get("payouts_enabled")) if is_account else None,
    )
