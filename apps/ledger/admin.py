from django.contrib import admin

from apps.ledger.models import LedgerEntry


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Read-only: entries are written by the services that record money events, never by a form."""

    list_display = ("created_at", "event_key", "kind", "account", "store", "order", "amount", "currency")
    list_filter = ("kind", "account")
    search_fields = ("event_key", "order__number", "store__slug")
    list_select_related = ("store", "order")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
