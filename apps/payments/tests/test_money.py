"""apps.core.money: one rounding rule (cents, half up) and minor units for providers' edges."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.core.money import from_minor_units, money, to_minor_units

AMOUNTS = st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.005"), "0.01"),
        (Decimal("0.004"), "0.00"),
        (Decimal("2.675"), "2.68"),
        (Decimal("2.665"), "2.67"),
        (Decimal("-0.005"), "-0.01"),
        (Decimal("-2.675"), "-2.68"),
        (Decimal("19.99"), "19.99"),
        (Decimal("19.9"), "19.90"),
        (Decimal("1E+2"), "100.00"),
        ("0.125", "0.13"),
        (7, "7.00"),
    ],
)
def test_money_rounds_to_cents_half_up(value, expected):
    result = money(value)

    assert str(result) == expected
    assert result == Decimal(expected)


def test_money_keeps_every_cent_of_large_amounts():
    assert str(money(Decimal("999999.99") * 99)) == "98999999.01"


@pytest.mark.parametrize(
    ("amount", "minor"),
    [("19.99", 1999), (Decimal("19.99"), 1999), (Decimal("0.01"), 1), (Decimal("0"), 0), (Decimal("0.005"), 1)],
)
def test_to_minor_units(amount, minor):
    result = to_minor_units(amount)

    assert result == minor
    assert type(result) is int


def test_from_minor_units():
    result = from_minor_units(1999)

    assert result == Decimal("19.99")
    assert str(result) == "19.99"
    assert str(from_minor_units(0)) == "0.00"
    assert str(from_minor_units(100_000_000)) == "1000000.00"


@given(AMOUNTS)
def test_minor_units_round_trip(amount):
    assert from_minor_units(to_minor_units(amount)) == amount


@given(st.integers(min_value=0, max_value=100_000_000))
def test_minor_units_round_trip_from_the_integer_side(minor):
    assert to_minor_units(from_minor_units(minor)) == minor
