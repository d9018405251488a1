from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.serializers import StoreRefSerializer
from apps.cart.models import MAX_QUANTITY_PER_LINE
from apps.catalog.serializers import media_url


class CartProductSerializer(serializers.Serializer):
    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    thumbnail_url = serializers.SerializerMethodField()
    store = StoreRefSerializer(read_only=True)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, product) -> str:
        images = product.images.all()
        return media_url(self.context.get("request"), images[0].thumbnail.name if images else "")


class CartItemOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    product = CartProductSerializer(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)


class CartOutputSerializer(serializers.Serializer):
    items = CartItemOutputSerializer(many=True, read_only=True)
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    currency = serializers.CharField(read_only=True)
    item_count = serializers.IntegerField(read_only=True)


class CartItemAddInputSerializer(serializers.Serializer):
    product = serializers.SlugField(max_length=80)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY_PER_LINE, default=1)


class CartItemUpdateInputSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY_PER_LINE)
