from django.contrib import admin

from apps.shipping.models import ShippingRate


@admin.register(ShippingRate)
class ShippingRateAdmin(admin.ModelAdmin):
    """Sellers write their rates through the API (which checks countries, days and the limit per
    store); staff mostly look, and may switch a rate off."""

    list_display = ["name", "store", "price", "free_over", "min_days", "max_days", "countries", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "store__name", "store__slug"]
    list_select_related = ["store"]
    raw_id_fields = ["store"]
