"""The payouts desk: transfers, reversals and store balances, all read-only. Money moves only
through the payout run (services.payouts_release); no page writes an amount, a status or an entry."""

from django.contrib import admin

from apps.ledger.selectors import Balance, store_balance
from apps.payouts.models import StoreBalance, Transfer, TransferReversal


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TransferReversalInline(admin.TabularInline):
    model = TransferReversal
    fields = ("idempotency_key", "amount", "status", "reference", "failure", "tries", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "idempotency_key", "store", "amount", "currency", "status", "reference", "tries")
    list_filter = ("status", "provider")
    search_fields = ("idempotency_key", "reference", "store__slug", "store_order__order__number")
    list_select_related = ("store",)
    date_hierarchy = "created_at"
    inlines = [TransferReversalInline]


@admin.register(TransferReversal)
class TransferReversalAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "idempotency_key", "amount", "status", "reference", "tries")
    list_filter = ("status",)
    search_fields = ("idempotency_key", "reference", "transfer__idempotency_key")


@admin.register(StoreBalance)
class StoreBalanceAdmin(ReadOnlyAdmin):
    """Each store's balance as its seller sees it, computed from the ledger when the page is read."""

    list_display = ("name", "slug", "pending", "available", "transferred")
    search_fields = ("name", "slug")
    list_per_page = 50

    def _balance(self, store: StoreBalance) -> Balance:
        if not hasattr(store, "_payout_balance"):
            store._payout_balance = store_balance(store=store)
        return store._payout_balance

    @admin.display(description="pending")
    def pending(self, store: StoreBalance):
        return self._balance(store).pending

    @admin.display(description="available")
    def available(self, store: StoreBalance):
        return self._balance(store).available

    @admin.display(description="transferred")
    def transferred(self, store: StoreBalance):
        return self._balance(store).transferred
