from rest_framework import serializers

from apps.ledger.models import LedgerEntry
from apps.payouts.stats import MAX_DAYS, TOP_PRODUCTS


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


class StatsQuerySerializer(serializers.Serializer):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD``: UTC days, both included, at most MAX_DAYS of them."""

    from_ = serializers.DateField(help_text="First day (UTC), included: YYYY-MM-DD.")
    to = serializers.DateField(
        help_text=f"Last day (UTC), included: YYYY-MM-DD; the range spans at most {MAX_DAYS} days."
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # `from` is a Python keyword: renamed here
        return fields

    def validate(self, attrs):
        if attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"from": "`from` must not be after `to`."})
        if (attrs["to"] - attrs["from"]).days + 1 > MAX_DAYS:
            raise serializers.ValidationError({"to": f"At most {MAX_DAYS} days per request, both ends included."})
        return attrs


def _money():
    return serializers.DecimalField(max_digits=14, decimal_places=2)


class StatsFiguresOutputSerializer(serializers.Serializer):
    orders = serializers.IntegerField(help_text="Paid store orders.")
    units = serializers.IntegerField(help_text="Units sold (refunded units included; refunds show in money).")
    gross = _money()
    refunds = _money()
    commission = _money()
    net = _money()


class StatsDayOutputSerializer(StatsFiguresOutputSerializer):
    date = serializers.DateField()


class StatsProductOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    units = serializers.IntegerField()
    gross = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Its line totals (no shipping).")


class StatsOutputSerializer(serializers.Serializer):
    currency = serializers.CharField()
    totals = StatsFiguresOutputSerializer()
    days = StatsDayOutputSerializer(many=True, help_text="Every day of the range, zeros included.")
    top_products = StatsProductOutputSerializer(many=True, help_text=f"At most {TOP_PRODUCTS}, most units first.")
