from rest_framework import status

from apps.catalog.exceptions import OutOfStock  # noqa: F401
from apps.core.exceptions import ApplicationError, Conflict


class EmptyCart(ApplicationError):
    default_detail = "Your cart is empty."
    default_code = "empty_cart"


class InvalidTransition(Conflict):
    default_detail = "The order cannot make that change in its current status."
    default_code = "invalid_transition"

    @classmethod
    def refused(cls, *, status: str, change: str) -> "InvalidTransition":
        """``An order that is <status> cannot <change>.``, with the current ``status`` in the body."""
        return cls(f"An order that is {status.replace('_', ' ')} cannot {change}.", extra={"status": status})


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
