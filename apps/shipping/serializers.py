"""Input and output shapes of sellers' shipping rates (names are unique: they become schema components)."""

from __future__ import annotations

from rest_framework import serializers

from apps.accounts.serializers import CountryCodeField
from apps.catalog.models import MAX_PRICE
from apps.core.fields import JSONBooleanField, JSONCharField, JSONDecimalField

MAX_DAYS = 365
# Every ISO 3166-1 alpha-2 code fits (there are 249); a longer list can only repeat them.
MAX_COUNTRIES = 250


class AnyCaseCountryField(CountryCodeField):
    """An address's country field (alpha-2 only, any letter case, answered upper case); in the schema
    the exact pattern of the codes (apps.accounts.serializers.CountryCodeFieldExtension)."""


class ShippingRateOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    countries = serializers.ListField(
        child=serializers.CharField(min_length=2, max_length=2),
        read_only=True,
        help_text="ISO 3166-1 alpha-2 codes, upper case; [] ships everywhere.",
    )
    price = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    free_over = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="The store's item subtotal from which this rate is free; null: never free.",
    )
    min_days = serializers.IntegerField(read_only=True)
    max_days = serializers.IntegerField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)


class ShippingRateInputSerializer(serializers.Serializer):
    """POST takes every field but ``countries`` (default ``[]``), ``free_over`` (default null) and
    ``is_active`` (default true); PATCH any of them. ``min_days <= max_days`` is the service's check."""

    name = JSONCharField(max_length=100)
    countries = serializers.ListField(
        child=AnyCaseCountryField(),
        max_length=MAX_COUNTRIES,
        required=False,
        default=list,
        help_text="ISO 3166-1 alpha-2 codes (any letter case; stored upper case, each once); [] ships everywhere.",
    )
    price = JSONDecimalField(max_digits=12, decimal_places=2, min_value=0, max_value=MAX_PRICE)
    free_over = JSONDecimalField(
        max_digits=12, decimal_places=2, min_value=0, max_value=MAX_PRICE, allow_null=True, required=False, default=None
    )
    min_days = serializers.IntegerField(min_value=0, max_value=MAX_DAYS)
    max_days = serializers.IntegerField(min_value=0, max_value=MAX_DAYS)
    is_active = JSONBooleanField(required=False, default=True)
