"""The payments domain's errors (codes unique across the project)."""

from __future__ import annotations

from rest_framework import status

from apps.core.exceptions import ApplicationError, Conflict


class InvalidPaymentMethod(ApplicationError):
    default_detail = "Unknown payment method."
    default_code = "invalid_payment_method"


class PaymentProviderUnavailable(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The payment provider is unavailable; the order is kept and can be paid later."
    default_code = "payment_provider_unavailable"


class PaymentUnderReview(Conflict):
    default_detail = "A payment for this order did not match its total and is being reviewed; it cannot be paid now."
    default_code = "payment_under_review"


class RefundExceeds(Conflict):
    default_detail = "The refund is larger than what the payment received and has not refunded yet."
    default_code = "refund_exceeds"


class InvalidSignature(ApplicationError):
    default_detail = "The webhook signature is missing, wrong or too old."
    default_code = "invalid_signature"


class PayoutProviderUnavailable(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The payment provider is unavailable; try again in a moment."
    default_code = "payout_provider_unavailable"
