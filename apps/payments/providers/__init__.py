"""The configured payment provider, chosen by ``PAYMENT_PROVIDER`` (a name or a dotted path)."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from apps.payments.providers.base import PaymentProvider

PROVIDERS = {
    "simulated": "apps.payments.providers.simulated.SimulatedProvider",
    "stripe": "apps.payments.providers.stripe_provider.StripeProvider",
}


@cache
def _provider_class(name: str) -> type:
    return import_string(PROVIDERS.get(name, name))


def get_provider(name: str | None = None) -> PaymentProvider:
    """A provider instance: ``name`` (a stored payment's provider) or the configured default."""
    return _provider_class(name or settings.PAYMENT_PROVIDER)()
