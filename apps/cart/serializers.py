from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.serializers import StoreRefSerializer
from apps.cart.models import MAX_QUANTITY_PER_LINE
from apps.catalog.serializers import media_url
from apps.core.fields import JSONCharField
from apps.shipping.serializers import AnyCaseCountryField


class CartProductSerializer(serializers.Serializer):
    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)
    price = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, help_text="The product's price: its lowest variant price."
    )
    thumbnail_url = serializers.SerializerMethodField()
    store = StoreRefSerializer(read_only=True)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, product) -> str:
        images = product.images.all()
        return media_url(self.context.get("request"), images[0].thumbnail.name if images else "")


class CartVariantSerializer(serializers.Serializer):
    sku = serializers.CharField(read_only=True)
    options = serializers.DictField(
        child=serializers.CharField(),
        read_only=True,
        help_text="{option name: value}; {} for a product sold in one form.",
    )


class CartItemOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    product = CartProductSerializer(read_only=True)
    variant = CartVariantSerializer(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, help_text="The variant's current price."
    )
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)


class CartOutputSerializer(serializers.Serializer):
    items = CartItemOutputSerializer(many=True, read_only=True)
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    currency = serializers.CharField(read_only=True)
    item_count = serializers.IntegerField(read_only=True)


class CartItemAddInputSerializer(serializers.Serializer):
    product = serializers.SlugField(max_length=80)
    variant = JSONCharField(
        max_length=64,
        required=False,
        allow_null=True,
        default=None,
        help_text="The sku of one of the product's active variants; required when the product has options.",
    )
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY_PER_LINE, default=1)


class CartItemUpdateInputSerializer(serializers.Serializer):
    """PATCH sets the one field there is: ``quantity`` is required, never partial (the view validates
    it whole; ``partial`` always False keeps the schema's PATCH body saying so)."""

    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY_PER_LINE)

    partial = property(lambda self: False, lambda self, value: None)


class ShippingOptionsQuerySerializer(serializers.Serializer):
    """Exactly one of ``country`` and ``address_id``."""

    country = AnyCaseCountryField(required=False, help_text="The destination: ISO 3166-1 alpha-2, any letter case.")
    address_id = serializers.IntegerField(min_value=1, required=False, help_text="One of the user's addresses.")

    def validate(self, attrs):
        if ("country" in attrs) == ("address_id" in attrs):
            message = "Give either country or address_id, not both."
            if not attrs:
                message = "Give country or address_id."
            raise serializers.ValidationError({"country": [message], "address_id": [message]})
        return attrs


class ShippingOptionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="null: the flat rate (a store with no rates)."
    )
    name = serializers.CharField(read_only=True)
    price = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, help_text="As this cart would pay it (free_over applied)."
    )
    min_days = serializers.IntegerField(read_only=True, allow_null=True)
    max_days = serializers.IntegerField(read_only=True, allow_null=True)


class CartStoreShippingOutputSerializer(serializers.Serializer):
    store = StoreRefSerializer(read_only=True)
    subtotal = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, help_text="The cart's items from this store."
    )
    options = ShippingOptionOutputSerializer(
        many=True, read_only=True, help_text="Cheapest first; [] when the store's rates do not ship there."
    )
