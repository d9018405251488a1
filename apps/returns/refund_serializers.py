from rest_framework import serializers

from apps.cart.models import MAX_LINES
from apps.core.fields import JSONCharField
from apps.payments.providers.base import RefundStatus


class RefundLineInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, help_text="An order line of this store's part of the order.")
    quantity = serializers.IntegerField(min_value=1, max_value=32767)


class RefundInputSerializer(serializers.Serializer):
    lines = RefundLineInputSerializer(many=True, required=False, max_length=MAX_LINES)
    shipping = serializers.BooleanField(
        required=False, default=False, help_text="Also refund what is left of this store's shipping."
    )
    restock = serializers.BooleanField(
        required=False, default=False, help_text="Put the refunded units back in stock (once, now)."
    )
    reason = JSONCharField(max_length=200)
    store = serializers.SlugField(
        required=False,
        help_text="Staff only (sellers refund their own store's part): the slug of the store whose part "
        "to refund; may be left out when the order has one store.",
    )


class RefundStoreQuerySerializer(serializers.Serializer):
    store = serializers.SlugField(required=False)


class RefundLineOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="line_id", read_only=True, help_text="The order line.")
    quantity = serializers.IntegerField(read_only=True)
    restocked = serializers.BooleanField(read_only=True)


class RefundOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    items_amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    shipping_amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    currency = serializers.CharField(source="payment.currency", read_only=True)
    lines = RefundLineOutputSerializer(many=True, read_only=True)
    status = serializers.ChoiceField(choices=RefundStatus.CHOICES, read_only=True)
    reason = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
