"""An order as its buyer sees it, with its payment: the responses of checkout and of the buyer's
order endpoints."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.orders.models import Order
from apps.orders.serializers import OrderBaseSerializer, OrderEventOutputSerializer
from apps.payments.providers.base import PaymentStatus


class PaymentOutputSerializer(serializers.Serializer):
    provider = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=PaymentStatus.CHOICES, read_only=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    failure_code = serializers.CharField(read_only=True, allow_blank=True)
    client_secret = serializers.CharField(read_only=True, allow_null=True)

    def to_representation(self, payment):
        data = super().to_representation(payment)
        data["client_secret"] = payment.client_secret or None
        return data


class OrderOutputSerializer(OrderBaseSerializer):
    payment = serializers.SerializerMethodField()
    needs_review = serializers.BooleanField(read_only=True)

    @extend_schema_field(PaymentOutputSerializer(allow_null=True))
    def get_payment(self, order: Order):
        payments = list(order.payments.all())
        return PaymentOutputSerializer(payments[0]).data if payments else None


class OrderDetailOutputSerializer(OrderOutputSerializer):
    events = OrderEventOutputSerializer(many=True, read_only=True)
