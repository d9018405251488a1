"""Input and output shapes of the catalog API (names are unique: they become schema components).

Inputs list only writable fields, so read-only ones sent in a write (``slug``, ``store``,
``rating_avg``, ...) are ignored. URLs are absolute; an image not made yet is the placeholder.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC
from functools import cache

from django.conf import settings
from django.core.files.storage import default_storage
from django.templatetags.static import static
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from apps.accounts.models import Store
from apps.accounts.serializers import StoreRefSerializer
from apps.catalog.models import (
    MAX_OPTION_VALUES,
    MAX_OPTIONS,
    MAX_PRICE,
    MAX_VARIANTS,
    MIN_PRICE,
    Category,
    Product,
    ProductImage,
    Variant,
)
from apps.catalog.variants import MAX_OPTION_NAME, MAX_SKU
from apps.core.fields import JSONBooleanField, JSONCharField, JSONDecimalField, MoneyField, SlugRefField

logger = logging.getLogger(__name__)

PLACEHOLDER_IMAGE = "catalog/placeholder.png"
MAX_STOCK = 1_000_000_000
CREATABLE_STATUSES = [Product.Status.DRAFT, Product.Status.ACTIVE]


@cache
def _placeholder_path() -> str:
    try:
        return static(PLACEHOLDER_IMAGE)
    except ValueError:  # manifest storage before collectstatic: the unhashed name still resolves in DEBUG
        logger.warning("%s is missing from the static manifest; run collectstatic", PLACEHOLDER_IMAGE)
        return f"{settings.STATIC_URL.rstrip('/')}/{PLACEHOLDER_IMAGE}"


def placeholder_url(request) -> str:
    path = _placeholder_path()
    return request.build_absolute_uri(path) if request is not None else path


def media_url(request, name: str) -> str:
    """The absolute URL of a stored file, or the placeholder when there is none (yet)."""
    if not name:
        return placeholder_url(request)
    url = default_storage.url(name)
    return request.build_absolute_uri(url) if request is not None else url


# --- Categories -----------------------------------------------------------------------------


class CategoryRefSerializer(serializers.Serializer):
    """How a category is embedded elsewhere: ``{slug, name}``."""

    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)


class CategoryFlatOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    slug = serializers.SlugField(read_only=True)
    parent = serializers.SlugField(source="parent_slug", read_only=True, allow_null=True)


class CategoryChildOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    slug = serializers.SlugField(read_only=True)


class CategoryDetailOutputSerializer(CategoryFlatOutputSerializer):
    children = CategoryChildOutputSerializer(source="children_list", many=True, read_only=True)


class CategoryCreateInputSerializer(serializers.Serializer):
    name = JSONCharField(max_length=120)
    parent = SlugRefField(
        slug_field="slug", queryset=Category.objects.all(), allow_null=True, required=False, default=None
    )


class CategoryUpdateInputSerializer(serializers.Serializer):
    name = JSONCharField(max_length=120, required=False)
    parent = SlugRefField(slug_field="slug", queryset=Category.objects.all(), allow_null=True, required=False)


# --- Products -------------------------------------------------------------------------------


class ProductImageOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    alt_text = serializers.CharField(read_only=True)
    position = serializers.IntegerField(read_only=True)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, image: ProductImage) -> str:
        return media_url(self.context.get("request"), image.image.name)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, image: ProductImage) -> str:
        return media_url(self.context.get("request"), image.thumbnail.name)


def absolute_media_url_builder(request) -> Callable[[str | None], str]:
    """media_url() for many files of one request: the request's origin is looked up (and its host
    validated) once, not once per URL."""
    origin = request.build_absolute_uri("/")[:-1] if request is not None else ""
    placeholder = origin + _placeholder_path()
    storage_url = default_storage.url

    def absolute(name: str | None) -> str:
        if not name:
            return placeholder
        url = storage_url(name)
        return url if url.startswith(("https://", "http://")) else origin + url

    return absolute


def list_row_builder(request) -> Callable[[dict], dict]:
    """The function that renders a row of selectors.product_list_public as the list shows it
    (ProductListOutputSerializer's fields), for one request."""
    absolute = absolute_media_url_builder(request)

    def row_of(row: dict) -> dict:
        price, rating = row["price"], row["rating_avg"]
        return {
            "id": row["id"],
            "slug": row["slug"],
            "name": row["name"],
            "price": f"{price:.2f}",
            "currency": row["currency"],
            "store": {"slug": row["store__slug"], "name": row["store__name"]},
            "category": {"slug": row["category__slug"], "name": row["category__name"]},
            "thumbnail_url": absolute(row["first_thumbnail"]),
            "in_stock": row["stock"] > 0,
            "rating_avg": None if rating is None else f"{rating:.2f}",
            "rating_count": row["rating_count"],
        }

    return row_of


def product_list_rows(rows, *, request) -> list[dict]:
    """A page of the public list, rendered without a serializer per row (the view's ``results``)."""
    return list(map(list_row_builder(request), rows))


class ProductListOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    currency = serializers.CharField(read_only=True)
    store = StoreRefSerializer(read_only=True)
    category = CategoryRefSerializer(read_only=True)
    thumbnail_url = serializers.SerializerMethodField()
    in_stock = serializers.BooleanField(read_only=True)
    rating_avg = serializers.DecimalField(max_digits=3, decimal_places=2, read_only=True, allow_null=True)
    rating_count = serializers.IntegerField(read_only=True)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, product: Product) -> str:
        # The first image's thumbnail: from the list's annotation, or from the prefetched images.
        name = getattr(product, "first_thumbnail", None)
        if name is None and not hasattr(product, "first_thumbnail"):
            images = product.images.all()
            name = images[0].thumbnail.name if images else ""
        return media_url(self.context.get("request"), name or "")

    def to_representation(self, row: dict) -> dict:
        """A row of selectors.product_list_public, rendered directly (product_list_rows): the public
        list is the busiest path of the API and DRF's per-field machinery costs more than its
        queries. A test holds this equal to the generic rendering of the same product
        (``declared_representation``)."""
        if not hasattr(self, "_row"):
            self._row = list_row_builder(self.context.get("request"))
        return self._row(row)

    def _absolute(self, name: str | None) -> str:
        if not hasattr(self, "_url"):
            self._url = absolute_media_url_builder(self.context.get("request"))
        return self._url(name)

    def declared_representation(self, product: Product) -> dict:
        return serializers.Serializer.to_representation(self, product)


class SellerProductOutputSerializer(ProductListOutputSerializer):
    to_representation = serializers.Serializer.to_representation
    stock = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=Product.Status.choices, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


def _timestamp(moment) -> str:
    """As DRF renders a DateTimeField with USE_TZ and UTC: ISO 8601 with ``Z``."""
    value = moment.astimezone(UTC).isoformat()
    return value[:-6] + "Z" if value.endswith("+00:00") else value


class OptionOutputSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    values = serializers.ListField(child=serializers.CharField(), read_only=True)


def variant_row(variant: Variant) -> dict:
    """A variant as the API shows it (VariantOutputSerializer, rendered directly)."""
    return {
        "sku": variant.sku,
        "options": dict(variant.options),
        "price": f"{variant.price:.2f}",
        "stock": variant.stock,
        "in_stock": variant.stock > 0,
        "image_id": variant.image_id,
        "is_active": variant.is_active,
    }


class VariantOutputSerializer(serializers.Serializer):
    sku = serializers.CharField(read_only=True)
    options = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="One value of each of the product's options."
    )
    price = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    stock = serializers.IntegerField(read_only=True)
    in_stock = serializers.BooleanField(read_only=True)
    image_id = serializers.IntegerField(read_only=True, allow_null=True)
    is_active = serializers.BooleanField(read_only=True)

    def to_representation(self, variant: Variant) -> dict:
        return variant_row(variant)

    def declared_representation(self, variant: Variant) -> dict:
        return serializers.Serializer.to_representation(self, variant)


class ProductDetailOutputSerializer(ProductListOutputSerializer):
    description = serializers.CharField(read_only=True)
    stock = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=Product.Status.choices, read_only=True)
    images = ProductImageOutputSerializer(many=True, read_only=True)
    options = OptionOutputSerializer(many=True, read_only=True)
    variants = VariantOutputSerializer(source="variant_list", many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, product: Product) -> dict:
        """A product of the detail selectors (store, category, images and ``variant_list`` loaded), rendered
        directly like the list; a test holds it equal to ``declared_representation``."""
        images = product.image_list if hasattr(product, "image_list") else list(product.images.all())
        store, category, rating = product.store, product.category, product.rating_avg
        return {
            "id": product.id,
            "slug": product.slug,
            "name": product.name,
            "price": f"{product.price:.2f}",
            "currency": product.currency,
            "store": {"slug": store.slug, "name": store.name},
            "category": {"slug": category.slug, "name": category.name},
            "thumbnail_url": self._absolute(images[0].thumbnail.name if images else ""),
            "in_stock": product.stock > 0,
            "rating_avg": None if rating is None else f"{rating:.2f}",
            "rating_count": product.rating_count,
            "description": product.description,
            "stock": product.stock,
            "status": product.status,
            "images": [
                {
                    "id": image.id,
                    "url": self._absolute(image.image.name),
                    "thumbnail_url": self._absolute(image.thumbnail.name),
                    "alt_text": image.alt_text,
                    "position": image.position,
                }
                for image in images
            ],
            "options": [{"name": option["name"], "values": list(option["values"])} for option in product.options],
            "variants": [variant_row(variant) for variant in product.variant_list],
            "created_at": _timestamp(product.created_at),
            "updated_at": _timestamp(product.updated_at),
        }


def _price(**kwargs) -> MoneyField:
    """Round 1's product ``price``: a string or, as round 1 took it, a JSON number."""
    return MoneyField(max_digits=12, decimal_places=2, min_value=MIN_PRICE, max_value=MAX_PRICE, **kwargs)


def _variant_price(**kwargs) -> JSONDecimalField:
    """A variant's price (round 2): a JSON string only, as API.md writes money."""
    return JSONDecimalField(max_digits=12, decimal_places=2, min_value=MIN_PRICE, max_value=MAX_PRICE, **kwargs)


def _stock(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=MAX_STOCK, **kwargs)


def _variant_options(**kwargs) -> serializers.DictField:
    return serializers.DictField(
        child=JSONCharField(max_length=MAX_OPTION_NAME),
        help_text="One value of every option of the product, by option name ({} for a product without options).",
        **kwargs,
    )


class OptionInputSerializer(serializers.Serializer):
    name = JSONCharField(max_length=MAX_OPTION_NAME)
    values = serializers.ListField(
        child=JSONCharField(max_length=MAX_OPTION_NAME), allow_empty=False, max_length=MAX_OPTION_VALUES
    )

    def validate(self, attrs):
        # A PATCH makes DRF skip required fields in nested serializers too (partial reaches the
        # whole tree): an option is still a name and its values, in a PATCH as anywhere.
        missing = {field: ["This field is required."] for field in ("name", "values") if field not in attrs}
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class ProductVariantInputSerializer(serializers.Serializer):
    """A variant sent with a new product (``sku`` generated when omitted)."""

    sku = JSONCharField(max_length=MAX_SKU, required=False)
    options = _variant_options(required=False, default=dict)
    price = _variant_price()
    stock = _stock(required=False, default=0)


class _ProductCreateCommonInputSerializer(serializers.Serializer):
    """The fields of a new product in either form (ProductCreateInputSerializer and the schema's two
    shapes below)."""

    name = JSONCharField(max_length=200)
    description = JSONCharField(max_length=10000, required=False, allow_blank=True, default="")
    category = SlugRefField(slug_field="slug", queryset=Category.objects.all())
    status = serializers.ChoiceField(choices=CREATABLE_STATUSES, required=False, default=Product.Status.DRAFT)


class ProductCreateInputSerializer(_ProductCreateCommonInputSerializer):
    """Either ``price`` (and ``stock``): a product sold in one form, or ``options`` and
    ``variants``; not both."""

    price = _price(required=False, help_text="A product sold in one form: its price (without options/variants).")
    stock = _stock(required=False, help_text="A product sold in one form: its stock (default 0).")
    options = serializers.ListField(
        child=OptionInputSerializer(), max_length=MAX_OPTIONS, required=False, help_text="With ``variants``."
    )
    variants = serializers.ListField(
        child=ProductVariantInputSerializer(), max_length=MAX_VARIANTS, required=False, help_text="With ``options``."
    )


class ProductCreateSimpleInputSerializer(_ProductCreateCommonInputSerializer):
    """A product sold in one form: ``price`` (and ``stock``, default 0); no ``options``/``variants``."""

    price = _price()
    stock = _stock(required=False)


class ProductCreateWithVariantsInputSerializer(_ProductCreateCommonInputSerializer):
    """A product sold in variants: ``variants`` (and their ``options``); no ``price``/``stock``."""

    options = serializers.ListField(child=OptionInputSerializer(), max_length=MAX_OPTIONS, required=False)
    variants = serializers.ListField(child=ProductVariantInputSerializer(), max_length=MAX_VARIANTS)


class _ExcludingFieldsExtension(OpenApiSerializerExtension):
    """One of the two shapes of a new product names none of the other's fields (the service refuses
    both forms at once): ``not`` any of them."""

    excluded: tuple[str, ...] = ()

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["not"] = {"anyOf": [{"required": [name]} for name in self.excluded]}
        return schema


class ProductCreateSimpleInputExtension(_ExcludingFieldsExtension):
    target_class = ProductCreateSimpleInputSerializer
    excluded = ("options", "variants")


class ProductCreateWithVariantsInputExtension(_ExcludingFieldsExtension):
    target_class = ProductCreateWithVariantsInputSerializer
    excluded = ("price", "stock")


# The body of POST /products/ in the schema: exactly one of the two forms (ProductCreateInputSerializer
# validates the union; apps.catalog.services.product_create refuses both or neither).
PRODUCT_CREATE_REQUEST = PolymorphicProxySerializer(
    component_name="ProductCreateInput",
    serializers=[ProductCreateSimpleInputSerializer, ProductCreateWithVariantsInputSerializer],
    resource_type_field_name=None,
)


class ProductUpdateInputSerializer(serializers.Serializer):
    """PUT sends every field, PATCH any of them; ``archived`` takes a product off the catalog."""

    name = JSONCharField(max_length=200)
    description = JSONCharField(max_length=10000, allow_blank=True)
    price = _price(help_text="A product sold in one form only (else 400 `has_variants`); not required by PUT then.")
    category = SlugRefField(slug_field="slug", queryset=Category.objects.all())
    stock = _stock(help_text="A product sold in one form only (else 400 `has_variants`); not required by PUT then.")
    status = serializers.ChoiceField(choices=Product.Status.choices)
    options = serializers.ListField(
        child=OptionInputSerializer(),
        max_length=MAX_OPTIONS,
        required=False,
        help_text="Only adds values: every option in its order, its current values first, new ones after.",
    )

    def __init__(self, *args, has_options: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if has_options:  # its price and stock are its variants': PUT does not send them
            self.fields["price"].required = self.fields["stock"].required = False


class VariantCreateInputSerializer(serializers.Serializer):
    sku = JSONCharField(max_length=MAX_SKU, required=False, help_text="Unique in the store; generated when omitted.")
    options = _variant_options(required=False, default=dict)
    price = _variant_price()
    stock = _stock(required=False, default=0)
    image_id = serializers.IntegerField(required=False, allow_null=True, help_text="An image of this product.")


class VariantUpdateInputSerializer(serializers.Serializer):
    sku = JSONCharField(max_length=MAX_SKU, required=False)
    price = _variant_price(required=False)
    stock = _stock(required=False)
    image_id = serializers.IntegerField(required=False, allow_null=True)
    is_active = JSONBooleanField(required=False)


class ProductImageInputSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG or WebP; at most 10 MB and 40 megapixels.")
    alt_text = JSONCharField(max_length=200, required=False, allow_blank=True, default="")
    position = serializers.IntegerField(min_value=0, max_value=1000, required=False)


# --- Reviews --------------------------------------------------------------------------------


class ReviewOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    rating = serializers.IntegerField(read_only=True, min_value=1, max_value=5)
    title = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    author_name = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)

    def get_author_name(self, review) -> str:
        """First name and last initial; never the email. A deleted account shows no name."""
        author = review.author
        if not author.is_active or not author.first_name:
            return "A Bazaar customer"
        initial = f" {author.last_name[0]}." if author.last_name else ""
        return f"{author.first_name}{initial}"


class ReviewInputSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    title = JSONCharField(max_length=120, required=False, allow_blank=True, default="")
    body = JSONCharField(max_length=5000, required=False, allow_blank=True, default="")


# --- Stores ---------------------------------------------------------------------------------


class StorePublicOutputSerializer(serializers.ModelSerializer):
    product_count = serializers.IntegerField(read_only=True, help_text="Active products in the store.")

    class Meta:
        model = Store
        fields = ["slug", "name", "description", "created_at", "product_count"]
        read_only_fields = fields
