from django.contrib import admin

from apps.payments.models import Payment, SimulatedPayment


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["order", "attempt", "provider", "status", "amount", "currency", "failure_code", "created_at"]
    list_filter = ["provider", "status"]
    search_fields = ["order__number", "reference"]
    raw_id_fields = ["order"]
    exclude = ["client_secret"]


@admin.register(SimulatedPayment)
class SimulatedPaymentAdmin(admin.ModelAdmin):
    list_display = ["reference", "order_reference", "status", "amount", "currency", "created_at"]
    search_fields = ["reference", "order_reference"]

