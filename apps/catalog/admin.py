from django.contrib import admin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from apps.catalog.cache import catalog_changed
from apps.catalog.models import Category, Product, ProductImage, Review


class CatalogCacheAdminMixin:
    """Admin writes bypass the services: each of them retires the cached catalog too."""

    def save_related(self, request, form, formsets, change):  # after save_model, inlines included
        super().save_related(request, form, formsets, change)
        catalog_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        catalog_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        catalog_changed()


@admin.register(Category)
class CategoryAdmin(CatalogCacheAdminMixin, TreeAdmin):
    form = movenodeform_factory(Category)
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def move_node(self, request):  # drag and drop in the tree
        response = super().move_node(request)
        catalog_changed()
        return response


class ProductImageInline(admin.TabularInline):
    """Images are uploaded through the API (validated, re-encoded); here they can be reordered or removed."""

    model = ProductImage
    extra = 0
    fields = ["image", "thumbnail", "width", "height", "alt_text", "position"]
    readonly_fields = ["image", "thumbnail", "width", "height"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(CatalogCacheAdminMixin, admin.ModelAdmin):
    list_display = ["name", "store", "category", "price", "currency", "stock", "status", "created_at"]
    list_filter = ["status", "category"]
    search_fields = ["name", "slug", "store__name"]
    list_select_related = ["store", "category"]
    readonly_fields = ["slug", "currency", "rating_avg", "rating_count", "created_at", "updated_at"]
    raw_id_fields = ["store"]
    inlines = [ProductImageInline]


@admin.register(Review)
class ReviewAdmin(CatalogCacheAdminMixin, admin.ModelAdmin):
    list_display = ["product", "author", "rating", "title", "created_at"]
    list_filter = ["rating"]
    search_fields = ["product__name", "author__email", "title"]
    raw_id_fields = ["product", "author"]
