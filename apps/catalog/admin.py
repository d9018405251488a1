from django import forms
from django.conf import settings
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from rest_framework.exceptions import ValidationError as ApiValidationError
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from apps.accounts.admin_site import Panel
from apps.catalog.cache import catalog_changed
from apps.catalog.locks import lock_product
from apps.catalog.models import MAX_VARIANTS, MIN_PRICE, Category, Product, ProductImage, Review, Variant, options_key
from apps.catalog.stock import products_refresh
from apps.catalog.variants import RuleBroken, options_clean, sku_clean, variant_options_match
from apps.core.slugs import unique_slug


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


class VariantInlineFormSet(BaseInlineFormSet):
    """The rules of apps.catalog.variants for the admin: every variant names one value of each of
    the product's options (as the product form sets them), no combination twice, skus unused in
    the store, at most MAX_VARIANTS, at least one active variant."""

    def clean(self):
        super().clean()
        product = self.instance
        kept = [
            form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE") and not form.errors
        ]
        combinations, skus = set(), set()
        for form in kept:
            try:
                chosen = variant_options_match(
                    product_options=product.options, given=form.cleaned_data["options"] or {}
                )
            except RuleBroken as broken:
                form.add_error("options", str(broken))
                continue
            form.instance.options, form.instance.options_key = chosen, options_key(chosen)
            form.instance.store_id = product.store_id
            if form.instance.options_key in combinations:
                form.add_error("options", "Another variant has the same options.")
            combinations.add(form.instance.options_key)
            sku = form.cleaned_data["sku"]
            if sku in skus:
                form.add_error("sku", "Another variant has this sku.")
            skus.add(sku)
        others = Variant.objects.filter(store_id=product.store_id, sku__in=skus)
        if product.pk:
            others = others.exclude(product=product)
        for sku in others.values_list("sku", flat=True):
            for form in kept:
                if form.cleaned_data["sku"] == sku:
                    form.add_error("sku", "This sku is used by another product of the store.")
        if len(kept) > MAX_VARIANTS:
            raise forms.ValidationError(f"A product has at most {MAX_VARIANTS} variants.")
        if not any(form.cleaned_data.get("is_active") for form in kept):
            raise forms.ValidationError("A product keeps at least one active variant.")


class VariantInlineForm(forms.ModelForm):
    class Meta:
        model = Variant
        fields = ["sku", "options", "price", "stock", "image", "is_active"]

    def clean_sku(self):
        try:
            return sku_clean(self.cleaned_data["sku"])
        except RuleBroken as broken:
            raise forms.ValidationError(str(broken)) from None


class VariantInline(admin.TabularInline):
    """A product's variants; saving them refreshes the product's derived price and stock."""

    model = Variant
    form = VariantInlineForm
    formset = VariantInlineFormSet
    extra = 0
    min_num = 1
    fields = ["sku", "options", "price", "stock", "image", "is_active"]
    raw_id_fields = ["image"]


class ProductAdminForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["store", "category", "name", "description", "options", "status"]

    def clean_options(self):
        try:
            return options_clean(self.cleaned_data["options"] or [])
        except ApiValidationError as error:
            raise forms.ValidationError(error.detail["options"]) from None
        except (KeyError, TypeError, AttributeError):
            raise forms.ValidationError('Options are [{"name": "...", "values": ["...", ...]}, ...].') from None


class LowStockFilter(admin.SimpleListFilter):
    """``?stock=low``: products with ``stock`` (the sum of their active variants' stock) at most
    ``LOW_STOCK_THRESHOLD``, read per request."""

    title = "stock"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("low", f"Low (≤ {settings.LOW_STOCK_THRESHOLD})")]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return queryset.filter(stock__lte=settings.LOW_STOCK_THRESHOLD)
        return queryset


@admin.register(Product)
class ProductAdmin(CatalogCacheAdminMixin, admin.ModelAdmin):
    """Products with their variants inline; ``price`` and ``stock`` are derived from the variants
    (read-only here, refreshed in save_related)."""

    form = ProductAdminForm
    list_display = ["name", "store", "category", "price", "currency", "stock", "status", "created_at"]
    list_filter = ["status", LowStockFilter, "category"]
    search_fields = ["name", "slug", "store__name"]
    list_select_related = ["store", "category"]
    readonly_fields = ["slug", "price", "stock", "currency", "rating_avg", "rating_count", "created_at", "updated_at"]
    raw_id_fields = ["store"]
    inlines = [VariantInline, ProductImageInline]

    def get_readonly_fields(self, request, obj=None):
        # Skus are unique per store: a product keeps its store (and its variants theirs).
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "store"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.slug = unique_slug(model=Product, name=obj.name, fallback="product")
            obj.price = MIN_PRICE  # a placeholder until save_related derives it from the variants
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        lock_product(pk=form.instance.pk)
        for formset in formsets:
            if isinstance(formset, VariantInlineFormSet):
                for variant_form in formset.forms:
                    variant_form.instance.store_id = form.instance.store_id
        super().save_related(request, form, formsets, change)
        products_refresh(product_ids=[form.instance.pk])


@admin.register(Review)
class ReviewAdmin(CatalogCacheAdminMixin, admin.ModelAdmin):
    list_display = ["product", "author", "rating", "title", "created_at"]
    list_filter = ["rating"]
    search_fields = ["product__name", "author__email", "title"]
    raw_id_fields = ["product", "author"]


admin.site.panel_register(
    Panel(
        position=40,
        title="Products low on stock",
        definition=lambda: f"Active products with {settings.LOW_STOCK_THRESHOLD} or fewer in stock.",
        model=Product,
        rows=lambda: Product.objects.filter(status=Product.Status.ACTIVE, stock__lte=settings.LOW_STOCK_THRESHOLD),
        query=f"status__exact={Product.Status.ACTIVE}&stock=low",
    )
)
