"""The payment provider contract. Implementations move money for an order and never touch the
database; every call that moves money takes an idempotency key, so a retry cannot charge or
refund twice. Amounts are Decimal in the deployment's currency here; minor units exist only
inside a provider."""

from __future__ import annotations

from dataclasses import dataclass, field
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
