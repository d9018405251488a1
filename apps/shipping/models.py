"""Sellers' shipping rates: each store ships from its own place at its own prices.

A store with no active rate ships at ``SHIPPING_FLAT_RATE``; a store with rates ships only where
one of them goes (``countries``, ``[]`` meaning everywhere)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from apps.accounts.models import Store
from apps.core.models import TimeStampedModel

MAX_RATES_PER_STORE = 50


class ShippingRate(TimeStampedModel):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="shipping_rates")
    name = models.CharField(max_length=100)
    # ISO 3166-1 alpha-2 codes, upper case; [] ships everywhere.
    countries = models.JSONField(default=list, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    # The store's item subtotal from which this rate is free; null: never free.
    free_over = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    min_days = models.PositiveSmallIntegerField(default=1)
    max_days = models.PositiveSmallIntegerField(default=5)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["price", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="shipping_rate_price_not_negative"),
            models.CheckConstraint(
                condition=Q(free_over__isnull=True) | Q(free_over__gte=0), name="shipping_rate_free_over_not_negative"
            ),
            models.CheckConstraint(condition=Q(min_days__lte=F("max_days")), name="shipping_rate_days_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.store_id})"
