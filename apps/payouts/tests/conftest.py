"""Fixtures of the payouts tests (helpers: factories.py)."""

from decimal import Decimal

import pytest

from apps.catalog.tests.factories import ProductFactory


@pytest.fixture
def mug(db):
    """12.50, 10 in stock, of its own store: two make a 25.00 order whose seller net is 22.50
    (10% commission, no shipping)."""
    return ProductFactory(name="Mug", price=Decimal("12.50"), stock=10)


@pytest.fixture
def store(mug):
    return mug.store
