from django.contrib import admin

from apps.payments.models import SimulatedPayment, WebhookEvent


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
