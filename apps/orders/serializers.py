from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from apps.accounts.models import Address
from apps.cart.models import MAX_LINES
from apps.core.exceptions import NotFound
from apps.core.fields import CountryTextField, JSONCharField
from apps.orders.models import LineStatus, OrderStatus, StoreOrderStatus


class ShippingAddressSerializer(serializers.Serializer):
    """An address given at checkout (snapshotted into the order)."""

    full_name = JSONCharField(max_length=200)
    line1 = JSONCharField(max_length=200)
    line2 = JSONCharField(max_length=200, required=False, allow_blank=True, default="")
    city = JSONCharField(max_length=100)
    region = JSONCharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = JSONCharField(max_length=20, required=False, allow_blank=True, default="")
    country = CountryTextField(max_length=2)
    phone = JSONCharField(max_length=32, required=False, allow_blank=True, default="")

    def validate_country(self, value: str) -> str:
        from django_countries import countries

        code = value.upper()
        if code not in dict(countries):
            raise serializers.ValidationError(f'"{value}" is not an ISO 3166-1 alpha-2 country code.')
        return code


class _CheckoutCommonInputSerializer(serializers.Serializer):
    """The fields of a checkout whatever its address (CheckoutInputSerializer and the schema's two
    shapes below)."""

    payment_method = JSONCharField(required=False, max_length=255)
    shipping_rates = serializers.DictField(
        child=serializers.IntegerField(min_value=1, allow_null=True),
        required=False,
        help_text='{"<store slug>": shipping rate id}: the rate each store ships with; a store left out (or null) '
        "ships with its cheapest option to the address's country.",
    )


class CheckoutInputSerializer(_CheckoutCommonInputSerializer):
    shipping_address = ShippingAddressSerializer(required=False)
    address_id = serializers.IntegerField(required=False, min_value=1)

    def validate_shipping_rates(self, value: dict) -> dict:
        if len(value) > MAX_LINES:
            raise serializers.ValidationError(f"At most {MAX_LINES} stores.")
        return value

    def validate(self, attrs):
        if ("shipping_address" in attrs) == ("address_id" in attrs):
            raise serializers.ValidationError({"shipping_address": ["Give either shipping_address or address_id."]})
        return attrs

    def shipping_snapshot(self, *, buyer) -> dict:
        """The address to ship to, copied: later edits of the address book do not change the order."""
        data = self.validated_data
        if "shipping_address" in data:
            return dict(data["shipping_address"])
        address = Address.objects.filter(user=buyer, pk=data["address_id"]).first()
        if address is None:
            raise NotFound("Address not found.")
        return {field: str(getattr(address, field)) for field in ShippingAddressSerializer().fields}


class CheckoutToAddressInputSerializer(_CheckoutCommonInputSerializer):
    """Checkout to an address given here."""

    shipping_address = ShippingAddressSerializer()


class CheckoutToSavedAddressInputSerializer(_CheckoutCommonInputSerializer):
    """Checkout to one of the user's saved addresses."""

    address_id = serializers.IntegerField(min_value=1)


# The checkout body in the schema: exactly one of ``shipping_address`` and ``address_id`` (a body with
# both matches both shapes, which oneOf refuses), as CheckoutInputSerializer.validate requires.
CHECKOUT_REQUEST = PolymorphicProxySerializer(
    component_name="CheckoutInput",
    serializers=[CheckoutToAddressInputSerializer, CheckoutToSavedAddressInputSerializer],
    resource_type_field_name=None,
)


class PayInputSerializer(serializers.Serializer):
    payment_method = JSONCharField(max_length=255)


class ShipInputSerializer(serializers.Serializer):
    carrier = JSONCharField(max_length=100, required=False, allow_blank=True, default="")
    tracking_number = JSONCharField(max_length=100, required=False, allow_blank=True, default="")


class StoreSnapshotSerializer(serializers.Serializer):
    slug = serializers.CharField(source="store_slug", read_only=True)
    name = serializers.CharField(source="store_name", read_only=True)


class OrderLineOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    product_slug = serializers.CharField(read_only=True)
    product_name = serializers.CharField(read_only=True)
    variant_sku = serializers.CharField(read_only=True)
    variant_options = serializers.DictField(child=serializers.CharField(), read_only=True)
    store = StoreSnapshotSerializer(source="*", read_only=True)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    refunded_quantity = serializers.IntegerField(
        read_only=True, help_text="Units refunded or being refunded (a refund that fails gives them back)."
    )
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    status = serializers.ChoiceField(choices=LineStatus.choices, read_only=True)
    carrier = serializers.CharField(read_only=True)
    tracking_number = serializers.CharField(read_only=True)


class ShippingMethodSerializer(serializers.Serializer):
    """The shipping option a store order was placed with, as it was then (``min_days``/``max_days``
    null for the flat rate)."""

    name = serializers.CharField(read_only=True)
    min_days = serializers.IntegerField(read_only=True, allow_null=True)
    max_days = serializers.IntegerField(read_only=True, allow_null=True)

    def to_representation(self, method: dict) -> dict:
        return {"name": method.get("name", ""), "min_days": method.get("min_days"), "max_days": method.get("max_days")}


class _StoreOrderSerializer(serializers.Serializer):
    """What both sides of a store order see: its status, money and shipping."""

    status = serializers.ChoiceField(choices=StoreOrderStatus.choices, read_only=True)
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    shipping = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    shipping_method = ShippingMethodSerializer(read_only=True)
    carrier = serializers.CharField(read_only=True)
    tracking_number = serializers.CharField(read_only=True)
    refunded_items = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, help_text="What succeeded refunds gave back of its items."
    )
    refunded_shipping = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, help_text="What succeeded refunds gave back of its shipping."
    )
    refunded_total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)


class StoreOrderOutputSerializer(_StoreOrderSerializer):
    """One store's part of an order, as its buyer sees it."""

    store = StoreSnapshotSerializer(source="*", read_only=True)
    shipped_at = serializers.DateTimeField(read_only=True, allow_null=True)
    delivered_at = serializers.DateTimeField(read_only=True, allow_null=True)


class SellerStoreOrderSerializer(_StoreOrderSerializer):
    """The seller's store order: what it ships and what it is paid (commission as snapshotted at
    checkout; ``seller_net`` = total - commission)."""

    commission_rate = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    commission = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    seller_net = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    refunded_commission = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, help_text="The commission refunds returned to the seller."
    )


class OrderEventOutputSerializer(serializers.Serializer):
    at = serializers.DateTimeField(read_only=True)
    to = serializers.CharField(source="to_status", read_only=True)
    by = serializers.SerializerMethodField()
    note = serializers.CharField(read_only=True)

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword, so the field is added by name.
        fields["from"] = serializers.CharField(source="from_status", read_only=True, allow_null=True)
        return fields

    def to_representation(self, event):
        data = super().to_representation(event)
        data["from"] = event.from_status or None
        return data

    def get_by(self, event) -> str:
        """Who made the change, without revealing anyone's personal data: buyer, a store, staff, system."""
        actor = event.actor
        if actor is None:
            return "system"
        if actor.pk == event.order.buyer_id:
            return "buyer"
        if actor.is_staff:
            return "staff"
        store = getattr(actor, "store", None)
        return f"store:{store.slug}" if store else "system"


class OrderBaseSerializer(serializers.Serializer):
    """An order as its buyer sees it, without its payment (apps.checkout adds it)."""

    number = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=OrderStatus.choices, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    items = OrderLineOutputSerializer(source="lines", many=True, read_only=True)
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    shipping = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    currency = serializers.CharField(read_only=True)
    shipping_address = ShippingAddressSerializer(read_only=True)
    stores = StoreOrderOutputSerializer(source="store_orders", many=True, read_only=True)
    refunded_total = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        read_only=True,
        help_text="What succeeded refunds gave back, summed over the store orders (items and shipping).",
    )


class SellerOrderOutputSerializer(serializers.Serializer):
    """A seller's view of an order, read from its store order: only this store's lines."""

    number = serializers.CharField(source="order.number", read_only=True)
    status = serializers.ChoiceField(source="order.status", choices=OrderStatus.choices, read_only=True)
    created_at = serializers.DateTimeField(source="order.created_at", read_only=True)
    items = OrderLineOutputSerializer(source="lines", many=True, read_only=True)
    shipping_address = ShippingAddressSerializer(source="order.shipping_address", read_only=True)
    store_order = SellerStoreOrderSerializer(source="*", read_only=True)
