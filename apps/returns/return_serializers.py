from rest_framework import serializers

from apps.cart.models import MAX_LINES
from apps.core.fields import JSONCharField
from apps.payments.providers.base import RefundStatus
from apps.returns.models import ReturnStatus


class ReturnLineInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, help_text="A delivered order line (all of one store).")
    quantity = serializers.IntegerField(min_value=1, max_value=32767)


class ReturnInputSerializer(serializers.Serializer):
    lines = ReturnLineInputSerializer(many=True, min_length=1, max_length=MAX_LINES)
    reason = JSONCharField(max_length=500)


class ReturnRejectInputSerializer(serializers.Serializer):
    note = JSONCharField(max_length=500, help_text="Why the return is refused (the buyer sees it).")


class ReturnReceiveInputSerializer(serializers.Serializer):
    restock = serializers.BooleanField(
        required=False, default=False, help_text="Put the returned units back in stock (once)."
    )


class ReturnListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReturnStatus.choices, required=False)


class ReturnStoreSerializer(serializers.Serializer):
    slug = serializers.CharField(source="store_slug", read_only=True)
    name = serializers.CharField(source="store_name", read_only=True)


class ReturnLineOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="line_id", read_only=True, help_text="The order line.")
    product_slug = serializers.CharField(source="line.product_slug", read_only=True)
    product_name = serializers.CharField(source="line.product_name", read_only=True)
    variant_sku = serializers.CharField(source="line.variant_sku", read_only=True)
    unit_price = serializers.DecimalField(source="line.unit_price", max_digits=12, decimal_places=2, read_only=True)
    quantity = serializers.IntegerField(read_only=True)


class ReturnRefundSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    status = serializers.ChoiceField(choices=RefundStatus.CHOICES, read_only=True)


class ReturnOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    order_number = serializers.CharField(source="order.number", read_only=True)
    status = serializers.ChoiceField(choices=ReturnStatus.choices, read_only=True)
    store = ReturnStoreSerializer(source="store_order", read_only=True)
    lines = ReturnLineOutputSerializer(many=True, read_only=True)
    reason = serializers.CharField(read_only=True)
    note = serializers.CharField(read_only=True, help_text="The seller's, when it rejected the return.")
    refund = ReturnRefundSerializer(read_only=True, allow_null=True, help_text="Recorded when received.")
    created_at = serializers.DateTimeField(read_only=True)
    approved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    rejected_at = serializers.DateTimeField(read_only=True, allow_null=True)
    received_at = serializers.DateTimeField(read_only=True, allow_null=True)
