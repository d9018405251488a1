from decimal import Decimal

import factory

from apps.accounts.tests.factories import StoreFactory
from apps.shipping.models import ShippingRate


class ShippingRateFactory(factory.django.DjangoModelFactory):
    """An active rate shipping everywhere at 4.50, never free, in 2 to 5 days."""

    class Meta:
        model = ShippingRate

    store = factory.SubFactory(StoreFactory)
    name = factory.Sequence(lambda n: f"Rate {n}")
    countries = factory.LazyFunction(list)
    price = Decimal("4.50")
    free_over = None
    min_days = 2
    max_days = 5
    is_active = True
