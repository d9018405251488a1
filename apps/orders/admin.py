from django.contrib import admin

from apps.orders.models import Order, OrderEvent, OrderLine
from apps.payments.models import Payment


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    raw_id_fields = ["product", "store"]
    readonly_fields = ["product_name", "product_slug", "store_name", "store_slug", "unit_price", "line_total"]


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    readonly_fields = ["at", "from_status", "to_status", "actor", "note"]
    can_delete = False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    readonly_fields = ["provider", "reference", "attempt", "amount", "currency", "status", "failure_code"]
    exclude = ["client_secret", "response"]
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "buyer", "status", "total", "currency", "needs_review", "created_at"]
    list_filter = ["status", "needs_review"]
    search_fields = ["number", "buyer__email"]
    raw_id_fields = ["buyer"]
    readonly_fields = ["number", "subtotal", "shipping", "total", "currency", "paid_at", "cancelled_at"]
    inlines = [OrderLineInline, PaymentInline, OrderEventInline]
