from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.template.response import TemplateResponse
from rest_framework.exceptions import ValidationError

from apps.accounts.admin_site import Panel
from apps.accounts.cache import stores_changed
from apps.accounts.models import Address, Store, User
from apps.accounts.services import store_commission_set


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_seller", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_seller", "is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["date_joined", "last_login", "is_seller"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["first_name", "last_name", "phone", "preferences"]}),
        ("Roles", {"fields": ["is_active", "is_seller", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["full_name", "user", "city", "country", "is_default"]
    search_fields = ["full_name", "user__email", "city", "postal_code"]
    list_filter = ["country", "is_default"]
    raw_id_fields = ["user"]


class CommissionRateForm(forms.Form):
    rate = forms.DecimalField(
        required=False,
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        label="Commission rate (%)",
        help_text="Leave empty to clear the override: the deployment's COMMISSION_RATE applies again.",
    )


def _rate(value) -> str:
    return "default" if value is None else f"{value}%"


def stores_waiting_for_payouts(queryset):
    """The stores of ``queryset`` that sell but cannot be paid: active, with at least one active
    product, and no payout account with payouts enabled (none opened, the provider's form not
    finished, or restricted). Higher apps' relations are named by their lookups (``products``,
    ``payout_account``), so this layer imports none of their models."""
    selling = Store.objects.filter(products__status="active").values("pk")
    return queryset.filter(is_active=True, pk__in=selling).exclude(payout_account__payouts_enabled=True)


class WaitingForPayoutsFilter(admin.SimpleListFilter):
    """``?payouts=waiting``: the stores of ``stores_waiting_for_payouts``."""

    title = "payouts"
    parameter_name = "payouts"

    def lookups(self, request, model_admin):
        return [("waiting", "Waiting for onboarding")]

    def queryset(self, request, queryset):
        return stores_waiting_for_payouts(queryset) if self.value() == "waiting" else queryset


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "owner", "is_active", "commission_rate", "created_at"]
    search_fields = ["name", "slug", "owner__email"]
    list_filter = ["is_active", WaitingForPayoutsFilter]
    # The commission is set only through the action below (services.store_commission_set).
    readonly_fields = ["slug", "commission_rate", "created_at", "updated_at"]
    raw_id_fields = ["owner"]
    actions = ["set_commission_rate"]

    def has_set_commission_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.set_commission")

    @admin.action(description="Set commission rate", permissions=["set_commission"])
    def set_commission_rate(self, request, queryset):
        """Django's action with an intermediate page: the form first, then, posted with ``apply``,
        the service for each selected store and an admin log line naming the old and new rate.
        Orders placed already keep the rate they snapshotted."""
        form = CommissionRateForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            rate = form.cleaned_data["rate"]
            for store in queryset:
                old = store.commission_rate
                try:
                    store_commission_set(store=store, rate=rate, actor=request.user)
                except ValidationError as error:
                    self.message_user(request, f"{store}: {error.detail}", level=messages.ERROR)
                    continue
                done = f"commission rate {_rate(old)} -> {_rate(store.commission_rate)}"
                LogEntry.objects.log_actions(
                    user_id=request.user.pk,
                    queryset=[store],
                    action_flag=CHANGE,
                    change_message=done,
                    single_object=True,
                )
                self.message_user(request, f"{store}: {done}.", level=messages.SUCCESS)
            return None  # back to the list
        context = {
            **self.admin_site.each_context(request),
            "title": "Set commission rate",
            "opts": self.opts,
            "form": form,
            "stores": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/accounts/store/set_commission_rate.html", context)

    def has_add_permission(self, request):
        # Owners open stores through the API (services.store_open picks the slug and makes them a
        # seller); a store added here would get an empty slug and an owner who is no seller.
        return False

    # Admin writes bypass the services: each of them retires what is cached about stores too.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        stores_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        stores_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        stores_changed()


admin.site.panel_register(
    Panel(
        position=30,
        title="Stores waiting for payout onboarding",
        definition=lambda: (
            "Active stores with an active product whose payout account is missing or does not have payouts enabled."
        ),
        model=Store,
        rows=lambda: stores_waiting_for_payouts(Store.objects.all()),
        query="payouts=waiting",
    )
)
