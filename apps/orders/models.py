"""Orders: what a buyer bought, snapshotted at checkout, and how it moved since."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TimeStampedModel

NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


def new_order_number() -> str:
    """12 random characters from 32 (60 bits): unguessable, not sequential."""
    return "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(12))


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    PAID = "paid", "Paid"
    PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


class LineStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


class StoreOrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


class Order(TimeStampedModel):
    number = models.CharField(max_length=20, unique=True, default=new_order_number, editable=False)
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    shipping = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_address = models.JSONField()
    needs_review = models.BooleanField(default=False)
    # The Idempotency-Key of the checkout that made it and the hash of that request: for 24 hours
    # a retried checkout with the same key and body finds this order (apps.core.idempotency.TTL).
    idempotency_key = models.CharField(max_length=255, blank=True)
    idempotency_hash = models.CharField(max_length=64, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["buyer", "-created_at"], name="orders_order_buyer_recent"),
            models.Index(fields=["status", "created_at"], name="orders_order_status_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="orders_order_one_per_checkout_key",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="orders_order_total_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def refunded_total(self) -> Decimal:
        """What succeeded refunds gave back of its store orders' items and shipping (read from the
        store orders, prefetched by the order selectors)."""
        return sum((part.refunded_total for part in self.store_orders.all()), Decimal("0.00"))


class StoreOrder(TimeStampedModel):
    """The part of an order one store ships and is paid for: its lines, its subtotal, the shipping
    it chose (snapshotted: later edits of the rate change no order), the commission rate of the day,
    its own fulfilment status (``pending`` → ``shipped`` → ``delivered``, or ``cancelled``)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="store_orders")
    store = models.ForeignKey("accounts.Store", on_delete=models.PROTECT, related_name="store_orders", db_index=False)
    store_name = models.CharField(max_length=120)
    store_slug = models.CharField(max_length=80)
    status = models.CharField(max_length=10, choices=StoreOrderStatus.choices, default=StoreOrderStatus.PENDING)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    shipping = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    # The rate chosen (null: the flat rate, or a rate deleted since) and what it was then:
    # {"name", "min_days", "max_days"} (days null for the flat rate).
    shipping_rate = models.ForeignKey(
        "shipping.ShippingRate", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shipping_method = models.JSONField(default=dict)
    # Percent of the item subtotal the platform keeps, as it was at checkout, and that amount.
    commission_rate = models.DecimalField(max_digits=5, decimal_places=2)
    commission = models.DecimalField(max_digits=12, decimal_places=2)
    # What refunds have given back so far (written with their ledger entries, apps.ledger): of the
    # items, of the shipping, and the commission returned with them.
    refunded_items = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    refunded_shipping = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    refunded_commission = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "store"], name="orders_store_order_one_per_store"),
            models.CheckConstraint(condition=Q(total__gte=0), name="orders_store_order_total_not_negative"),
            models.CheckConstraint(
                condition=Q(refunded_items__gte=0, refunded_items__lte=models.F("subtotal"))
                & Q(refunded_shipping__gte=0, refunded_shipping__lte=models.F("shipping")),
                name="orders_store_order_refunds_within_paid",
            ),
        ]
        indexes = [models.Index(fields=["store", "-created_at", "-id"], name="orders_storeorder_recent")]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.store_slug}"

    @property
    def seller_net(self):
        return self.total - self.commission

    @property
    def refunded_total(self):
        return self.refunded_items + self.refunded_shipping


class OrderLine(models.Model):
    """One variant of a product in an order, with the name, options, store and price it had at
    checkout."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    store_order = models.ForeignKey(StoreOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="order_lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="order_lines")
    store = models.ForeignKey("accounts.Store", on_delete=models.PROTECT, related_name="order_lines")
    product_name = models.CharField(max_length=200)
    product_slug = models.CharField(max_length=80)
    variant_sku = models.CharField(max_length=64)
    variant_options = models.JSONField(default=dict, blank=True)
    store_name = models.CharField(max_length=120)
    store_slug = models.CharField(max_length=80)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveSmallIntegerField()
    # Units refunded (apps.payments.refunds: counted when a refund is recorded, given back when it
    # fails for good) and units put back in stock by refunds (never again by a cancellation).
    refunded_quantity = models.PositiveSmallIntegerField(default=0)
    restocked_quantity = models.PositiveSmallIntegerField(default=0)
    line_total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=LineStatus.choices, default=LineStatus.PENDING)
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["store", "order"], name="orders_line_store_order")]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_quantity__lte=models.F("quantity"), restocked_quantity__lte=models.F("quantity")),
                name="orders_line_refunds_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_name}"


class OrderEvent(models.Model):
    """A status change: who, when, from, to, and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '-'} -> {self.to_status}"
