from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.accounts.cache import stores_changed
from apps.accounts.models import Address, Store, User


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


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "owner", "is_active", "created_at"]
    search_fields = ["name", "slug", "owner__email"]
    list_filter = ["is_active"]
    readonly_fields = ["slug", "created_at", "updated_at"]
    raw_id_fields = ["owner"]

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
