"""Money is Decimal with the deployment's two-decimal currency; rounded once, half up."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    """Round to cents, half up (the one rounding rule for stored amounts). Floats are refused:
    ``2.675`` is really 2.67499999… in binary, so money never passes through one."""
    if isinstance(value, float):
        raise TypeError("money() takes Decimal, int or str, never float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_minor_units(amount: Decimal) -> int:
    """``Decimal("19.99")`` → ``1999``: for payment providers' edges only."""
    return int((money(amount) * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_minor_units(minor: int) -> Decimal:
    return money(Decimal(minor) / 100)
