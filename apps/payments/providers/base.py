"""The payment provider contract. Implementations move money for an order and never touch the
database; every call that moves money takes an idempotency key, so a retry cannot charge or
refund twice. Amounts are Decimal in the deployment's currency here; minor units exist only
inside a provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


class PaymentStatus:
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"
    CHOICES = [
        (PENDING, "Pending"),
        (REQUIRES_ACTION, "Requires action"),
        (SUCCEEDED, "Succeeded"),
        (FAILED, "Failed"),
        (PARTIALLY_REFUNDED, "Partially refunded"),
        (REFUNDED, "Refunded"),
        (CANCELLED, "Cancelled"),
    ]
    # How far a payment has come: a provider's answer never moves it to a lower rank (a late
    # "pending" after the success, a "succeeded" after the refund). Attempts still open share a rank.
    RANK = {PENDING: 0, REQUIRES_ACTION: 0, FAILED: 0, CANCELLED: 1, SUCCEEDED: 2, PARTIALLY_REFUNDED: 3, REFUNDED: 4}


# The amounts a card payment can have (Stripe's limits for a two-decimal currency: at least 0.50,
# at most 999,999.99); the simulated provider mirrors them. Checkout refuses totals outside.
MIN_AMOUNT = Decimal("0.50")
MAX_AMOUNT = Decimal("999999.99")


class RefundStatus:
    PENDING = "pending"  # recorded; not yet sent, or sent and the provider has not finished it
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CHOICES = [(PENDING, "Pending"), (SUCCEEDED, "Succeeded"), (FAILED, "Failed")]


@dataclass(frozen=True)
class PaymentResult:
    """What the provider says about one payment (a PaymentIntent in Stripe's words)."""

    reference: str
    status: str
    amount: Decimal
    currency: str
    failure_code: str = ""
    failure_message: str = ""
    client_secret: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    # The charge behind a succeeded payment (Stripe: the intent's latest_charge): what a transfer
    # to a seller names as its source_transaction. Empty until the payment has succeeded.
    charge_reference: str = ""


@dataclass(frozen=True)
class RefundResult:
    reference: str
    status: str  # RefundStatus: "succeeded", "pending" or "failed"
    amount: Decimal
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderEvent:
    """A verified webhook event, reduced to what the order side needs."""

    id: str
    type: str
    payment_reference: str
    amount: Decimal | None
    currency: str
    failure_code: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    # For refund events: the refund's reference and status (RefundStatus); for disputes, their
    # reason and status (the provider's words: "needs_response", "won", "lost", ...).
    refund_reference: str = ""
    refund_status: str = ""
    dispute_reason: str = ""
    dispute_status: str = ""
    # For payment_intent.succeeded: the charge (see PaymentResult.charge_reference).
    charge_reference: str = ""
    # For account.updated (a seller's connected account): its reference and what it says now.
    account_reference: str = ""
    account_details_submitted: bool | None = None
    account_payouts_enabled: bool | None = None


@dataclass(frozen=True)
class ConnectAccountResult:
    """A seller's connected account (Stripe Connect Express) as the provider holds it."""

    reference: str
    details_submitted: bool
    payouts_enabled: bool
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountLinkResult:
    """A single-use onboarding link for a connected account; the seller opens ``url`` before ``expires_at``."""

    url: str
    expires_at: datetime


@dataclass(frozen=True)
class TransferResult:
    """Money sent from the platform to a connected account; ``reversed_amount`` has come back since."""

    reference: str
    amount: Decimal
    currency: str
    reversed_amount: Decimal
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReversalResult:
    """Part (or all) of a transfer taken back from the connected account."""

    reference: str
    amount: Decimal
    raw: dict[str, Any] = field(default_factory=dict)


class ProviderError(Exception):
    """The provider could not be reached or failed (network, 5xx). Nothing is known to have moved;
    the caller leaves the order payable and answers 502/503."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class InvalidPaymentMethodError(Exception):
    """The payment method is not one this provider accepts (answered as 400 invalid_payment_method)."""


class WebhookSignatureError(Exception):
    """A webhook whose signature is missing, wrong or stale."""


class PaymentProvider(Protocol):
    name: str

    def check_method(self, *, payment_method: str) -> None:
        """Raise InvalidPaymentMethodError for a method this provider never accepts (no network)."""

    def start(self, *, amount: Decimal, currency: str, reference: str, idempotency_key: str) -> PaymentResult:
        """Create a payment for ``amount`` with the order number as ``reference``."""

    def confirm(self, *, payment_ref: str, payment_method: str, idempotency_key: str) -> PaymentResult:
        """Charge the payment with a method; a decline is a result with status ``failed`` and a
        ``failure_code``; an unknown method raises InvalidPaymentMethodError."""

    def retrieve(self, *, payment_ref: str) -> PaymentResult: ...

    def cancel(self, *, payment_ref: str, idempotency_key: str) -> PaymentResult: ...

    def refund(self, *, payment_ref: str, amount: Decimal, idempotency_key: str) -> RefundResult:
        """Refund ``amount`` (at most what is left unrefunded). Raises ProviderError; a refusal
        (more than is left, say) is a ProviderError with ``retryable=False``."""

    def refund_retrieve(self, *, refund_ref: str) -> RefundResult:
        """The refund's current state (one answered ``pending`` is asked about, never requested again)."""

    def parse_webhook(self, *, payload: bytes, signature: str) -> ProviderEvent:
        """Verify and decode a webhook; raises WebhookSignatureError."""

    def webhook_event(self, *, raw: dict[str, Any]) -> ProviderEvent:
        """Decode an event verified and stored earlier (its ``raw``), for processing in a task."""

    # --- paying sellers (Stripe Connect Express) ---------------------------------------------------

    def connect_account_create(self, *, email: str, country: str | None, idempotency_key: str) -> ConnectAccountResult:
        """Open a connected account for a seller (Stripe: an Express account asking for the
        ``transfers`` capability). A retried key answers the account the first call made."""

    def connect_account_retrieve(self, *, account_ref: str) -> ConnectAccountResult: ...

    def connect_account_link(self, *, account_ref: str, refresh_url: str, return_url: str) -> AccountLinkResult:
        """A new onboarding link for the account (each link is single-use and short-lived, so none is
        reused: no idempotency key)."""

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
        """Send ``amount`` to the connected account ``destination``, funded by the charge
        ``source_transaction`` when given. A retried key answers the first transfer; a refusal
        (an account that cannot receive transfers, more than the source holds) is a ProviderError
        with ``retryable=False``."""

    def transfer_reverse(self, *, transfer_ref: str, amount: Decimal, idempotency_key: str) -> ReversalResult:
        """Take ``amount`` back from a transfer: at most its amount minus what was reversed already
        (more is a ProviderError with ``retryable=False``). A retried key answers the first reversal."""
