"""Django's admin log, read-only: the audit trail of what staff did in the admin.

Every admin action on orders, payments and refunds adds a line (apps/checkout/admin.py), as does
any add, change or delete through an admin form. Nobody adds, changes or deletes a line here;
reading needs the view permission on log entries (a superuser has it).
"""

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.utils.html import format_html


@admin.register(LogEntry)
class LogEntryAdmin(admin.ModelAdmin):
    list_display = ["action_time", "user", "content_type", "object_link", "action_flag", "change"]
    list_filter = ["action_flag", "content_type"]
    list_select_related = ["user", "content_type"]
    search_fields = ["object_repr", "object_id", "change_message", "user__email"]
    date_hierarchy = "action_time"
    ordering = ["-action_time", "-id"]
    fields = ["action_time", "user", "content_type", "object_id", "object_repr", "action_flag", "change"]
    readonly_fields = fields

    @admin.display(description="Object", ordering="object_repr")
    def object_link(self, entry: LogEntry) -> str:
        url = entry.get_admin_url()  # None once the object is gone
        return format_html('<a href="{}">{}</a>', url, entry.object_repr) if url else entry.object_repr

    @admin.display(description="Change")
    def change(self, entry: LogEntry) -> str:
        return entry.get_change_message()

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
