from django.contrib import admin

from apps.payments.models import ConnectAccount, SimulatedPayment, WebhookEvent


@admin.register(SimulatedPayment)
class SimulatedPaymentAdmin(admin.ModelAdmin):
    list_display = ["reference", "order_reference", "status", "amount", "currency", "created_at"]
    search_fields = ["reference", "order_reference"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "provider", "type", "payment_reference", "received_at", "processed_at", "outcome"]
    list_filter = ["provider", "type"]
    search_fields = ["event_id", "payment_reference"]
    readonly_fields = ["provider", "event_id", "type", "payment_reference", "payload", "received_at", "processed_at"]


@admin.register(ConnectAccount)
class ConnectAccountAdmin(admin.ModelAdmin):
    """Read-only: accounts are opened by the seller's onboarding request and follow the provider."""

    list_display = ["store", "provider", "reference", "status", "details_submitted", "payouts_enabled", "updated_at"]
    list_filter = ["provider", "payouts_enabled", "details_submitted"]
    list_select_related = ["store"]
    search_fields = ["reference", "store__slug", "store__name"]
    readonly_fields = [f.name for f in ConnectAccount._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
