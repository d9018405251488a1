"""Returns in the operator's desk: read-only, with their lines. Staff act on a return's money
through the refund it recorded (apps.checkout's refund admin), never by editing a return."""

from __future__ import annotations

from django.contrib import admin

from apps.returns.models import ReturnLine, ReturnRequest


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    can_delete = False
    fields = ["line", "quantity"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    """No add, no change (the change page is a view page: a POST to it is 403), no delete."""

    list_display = ["id", "order", "store_order", "buyer", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["order", "store_order", "buyer"]
    search_fields = ["order__number", "buyer__email"]
    fields = [
        "order",
        "store_order",
        "buyer",
        "status",
        "reason",
        "note",
        "refund",
        "created_at",
        "approved_at",
        "rejected_at",
        "received_at",
    ]
    readonly_fields = fields
    inlines = [ReturnLineInline]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
