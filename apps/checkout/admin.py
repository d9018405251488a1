"""The operator's desk for orders and payments. No form writes a status, an amount or a quantity:
those fields are read-only, and what staff may do to money goes through actions that call the
checkout services, each leaving an order event that names the staff member (and a line in
Django's admin log)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry

from apps.checkout import services
from apps.core.exceptions import ApplicationError
from apps.orders.models import Order, OrderEvent, OrderLine
from apps.payments.models import Payment, Refund
from apps.payments.providers.base import ProviderError, RefundStatus


def _log(request, obj, message: str) -> None:
    """The action in Django's admin log ("Recent actions", the object's history)."""
    LogEntry.objects.log_actions(
        user_id=request.user.pk, queryset=[obj], action_flag=CHANGE, change_message=message, single_object=True
    )


def _run(modeladmin, request, queryset, action, done: str) -> None:
    """Run ``action`` on each selected object; report each refusal instead of failing them all."""
    for obj in queryset:
        try:
            action(obj)
        except (ApplicationError, ProviderError) as error:
            detail = getattr(error, "detail", error)
            modeladmin.message_user(request, f"{obj}: {detail}", level=messages.ERROR)
            continue
        _log(request, obj, done)
        modeladmin.message_user(request, f"{obj}: {done}.", level=messages.SUCCESS)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["product_name", "store_name", "unit_price", "quantity", "line_total", "status", "carrier"]
    readonly_fields = fields


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = [
        "attempt",
        "provider",
        "reference",
        "status",
        "amount",
        "amount_received",
        "amount_refunded",
        "currency",
        "failure_code",
        "settles_order",
    ]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "buyer", "status", "total", "currency", "needs_review", "created_at"]
    list_filter = ["needs_review", "status"]
    search_fields = ["number", "buyer__email"]
    readonly_fields = [
        "number",
        "buyer",
        "status",
        "needs_review",
        "currency",
        "subtotal",
        "shipping",
        "total",
        "shipping_address",
        "idempotency_key",
        "paid_at",
        "cancelled_at",
        "created_at",
        "updated_at",
    ]
    exclude = ["idempotency_hash"]
    inlines = [OrderLineInline, PaymentInline, OrderEventInline]
    actions = ["accept_reviewed_payment", "refund_what_was_received", "cancel_and_refund"]

    def has_add_permission(self, request) -> bool:
        return False  # orders are made by checkout

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # an order is kept for the books; cancel it instead

    @admin.action(description="Accept the payment under review (the order is paid with what was received)")
    def accept_reviewed_payment(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda order: services.checkout_review_accept(order=order, staff=request.user),
            "payment under review accepted",
        )

    @admin.action(description="Refund what was received and cancel (order under review)")
    def refund_what_was_received(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda order: services.checkout_review_refund(order=order, staff=request.user),
            "refunded what was received and cancelled",
        )

    @admin.action(description="Cancel and refund (nothing shipped yet)")
    def cancel_and_refund(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda order: services.checkout_cancel_by_staff(order=order, staff=request.user),
            "cancelled and refunded",
        )


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["created_at", "amount", "status", "origin", "reference", "reason", "requested_by", "failure"]
    readonly_fields = fields


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["order", "attempt", "provider", "status", "amount", "amount_received", "currency", "created_at"]
    list_filter = ["provider", "status"]
    search_fields = ["order__number", "reference"]
    exclude = ["client_secret", "response"]
    inlines = [RefundInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Payment._meta.concrete_fields if field.name not in self.exclude]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["idempotency_key", "payment", "amount", "status", "origin", "requested_by", "created_at"]
    list_filter = ["status", "origin"]
    search_fields = ["idempotency_key", "reference", "payment__order__number"]
    actions = ["retry_failed_refund"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Refund._meta.concrete_fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Retry the failed refund (a new refund with its own key)")
    def retry_failed_refund(self, request, queryset):
        _run(
            self,
            request,
            queryset.filter(status=RefundStatus.FAILED).select_related("payment__order"),
            lambda refund: services.checkout_refund_retry(refund=refund, staff=request.user),
            "refund asked again",
        )
