from django.contrib import admin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from apps.catalog.models import Category, Product, ProductImage, Review


@admin.register(Category)
class CategoryAdmin(TreeAdmin):
    form = movenodeform_factory(Category)
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class ProductImageInline(admin.TabularInline):
    """Images are uploaded through the API (validated, re-encoded); here they can be reordered or removed."""

    model = ProductImage
    extra = 0
    fields = ["image", "thumbnail", "width", "height", "alt_text", "position"]
    readonly_fields = ["image", "thumbnail", "width", "height"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "store", "category", "price", "currency", "stock", "status", "created_at"]
    list_filter = ["status", "category"]
    search_fields = ["name", "slug", "store__name"]
    list_select_related = ["store", "category"]
    readonly_fields = ["slug", "currency", "rating_avg", "rating_count", "created_at", "updated_at"]
    raw_id_fields = ["store"]
    inlines = [ProductImageInline]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["product", "author", "rating", "title", "created_at"]
    list_filter = ["rating"]
    search_fields = ["product__name", "author__email", "title"]
    raw_id_fields = ["product", "author"]
