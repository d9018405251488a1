from rest_framework import serializers

from apps.ledger.models import LedgerEntry


class PayoutAccountOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["none", "onboarding", "enabled", "restricted"])
    payouts_enabled = serializers.BooleanField()


class BalanceOutputSerializer(serializers.Serializer):
    currency = serializers.CharField(source="balance.currency")
    pending = serializers.DecimalField(max_digits=12, decimal_places=2, source="balance.pending")
    available = serializers.DecimalField(max_digits=12, decimal_places=2, source="balance.available")
    transferred = serializers.DecimalField(max_digits=12, decimal_places=2, source="balance.transferred")
    account = PayoutAccountOutputSerializer()


class LedgerEntryOutputSerializer(serializers.ModelSerializer):
    at = serializers.DateTimeField(source="created_at")
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Signed: what moved into this account (negative: out of it)."
    )
    order_number = serializers.CharField(source="order.number", allow_null=True, default=None)

    class Meta:
        model = LedgerEntry
        fields = ["id", "at", "kind", "account", "amount", "order_number", "note"]
