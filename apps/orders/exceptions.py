from __future__ import annotations

from decimal import Decimal

from apps.core.exceptions import ApplicationError, Conflict


class EmptyCart(ApplicationError):
    default_detail = "Your cart is empty."
    default_code = "empty_cart"


class InvalidTransition(Conflict):
    default_detail = "The order cannot make that change in its current status."
    default_code = "invalid_transition"

    @classmethod
    def refused(cls, *, status: str, change: str) -> InvalidTransition:
        """``An order that is <status> cannot <change>.``, with the current ``status`` in the body."""
        return cls(f"An order that is {status.replace('_', ' ')} cannot {change}.", extra={"status": status})


class AmountOutOfRange(Conflict):
    default_detail = "The order's total is outside what the payment provider can charge."
    default_code = "amount_out_of_range"

    @classmethod
    def for_total(cls, *, total: Decimal, currency: str, limits: tuple[Decimal, Decimal]) -> AmountOutOfRange:
        low, high = limits
        return cls(
            f"An order total of {total} {currency} cannot be charged: it must be between {low} and {high}.",
            extra={"total": str(total), "min_amount": str(low), "max_amount": str(high)},
        )


class OrderUnderReview(Conflict):
    default_detail = "A payment of this order is being reviewed by staff; it cannot be shipped until they settle it."
    default_code = "needs_review"


class NoShippingRate(Conflict):
    default_detail = "Some stores in your cart do not ship to this address; remove their items or ship elsewhere."
    default_code = "no_shipping_rate"

    @classmethod
    def for_stores(cls, *, slugs: list[str], country: str) -> NoShippingRate:
        """The body names the stores (``stores``: their slugs) that have no rate for ``country``."""
        return cls(
            f"{', '.join(slugs)} cannot ship to {country}: remove their items or choose another address.",
            extra={"stores": slugs},
        )
