"""The catalog: a category tree, sellers' products, their variants and their images.

Every product has one or more variants, each with its own sku, price and stock; a product sold in
one form has exactly one variant without options. The variants are the truth: a product's
``price`` (lowest price of its active variants) and ``stock`` (sum of their stock) are copies kept
by apps.catalog.services in the transaction that changes a variant, so the list filters, sorts and
counts on product columns and their indexes alone.

Search on PostgreSQL uses ``Product.search_vector``, kept current by a database trigger and
GIN-indexed (migration 0002); both exist only on PostgreSQL, so the model does not declare them.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from treebeard.mp_tree import MP_Node

from apps.accounts.models import Store
from apps.core.models import TimeStampedModel

MAX_PRICE = Decimal("1000000.00")
MIN_PRICE = Decimal("0.01")
MAX_VARIANTS = 100  # per product: a detail page stays bounded whatever a seller does
MAX_OPTIONS = 10  # per product
MAX_OPTION_VALUES = 100  # per option


def default_currency() -> str:
    return settings.DEFAULT_CURRENCY


class Category(MP_Node):
    """A node of the category tree (materialized path: ``path`` holds every ancestor's step,
    so a subtree is one ``path LIKE 'prefix%'`` query). Siblings are kept sorted by name."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True)

    node_order_by = ["name"]

    class Meta:
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    """Something a store sells. The slug is made once from the name and never changes."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    # Both foreign keys are indexed by the composite (fk, status) indexes below.
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="products", db_index=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products", db_index=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True, max_length=10000)
    # The options its variants choose from, in the seller's order: [{"name": str, "values": [str]}];
    # [] for a product sold in one form.
    options = models.JSONField(default=list, blank=True)
    # Derived from the active variants (lowest price, total stock): written only with them.
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default=default_currency)
    stock = models.IntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    rating_avg = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    rating_count = models.PositiveIntegerField(default=0)
    # Written by the database (trigger on PostgreSQL); never by Python code.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="catalog_product_stock_not_negative"),
            models.CheckConstraint(
                condition=Q(price__gt=0) & Q(price__lte=MAX_PRICE), name="catalog_product_price_in_range"
            ),
        ]
        indexes = [
            # The public list: status = 'active' ordered by one of these, ``id`` breaking ties.
            models.Index(fields=["status", "created_at", "id"], name="catalog_prod_status_created"),
            models.Index(fields=["status", "price", "id"], name="catalog_prod_status_price"),
            models.Index(fields=["status", "name", "id"], name="catalog_prod_status_name"),
            # Index-only counts: the list's capped count (status, joined to active stores) and a
            # store's product_count; and the store and category filters.
            models.Index(fields=["status", "store"], name="catalog_prod_status_store"),
            models.Index(fields=["store", "status"], name="catalog_prod_store_status"),
            models.Index(fields=["category", "status", "store"], name="catalog_prod_category_status"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


class ProductImage(models.Model):
    """One picture of a product: the re-encoded original and, once made, a WebP thumbnail.

    File names are generated (``products/<product id>/<uuid>.<ext>``), never taken from the upload.
    """

    # Indexed by the (product, position, id) index below.
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images", db_index=False)
    image = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    alt_text = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["product", "position", "id"], name="catalog_image_product_pos")]

    def __str__(self) -> str:
        return self.image.name


def options_key(options: dict[str, str]) -> str:
    """The canonical form of a variant's option values, unique per product: the (name, value)
    pairs lower-cased, sorted, as JSON (``[["colour","red"],["size","m"]]``; ``[]`` for none).
    JSON's quoting makes every pair appear as the unambiguous substring ``["name","value"]``,
    which the ``option=name:value`` filter looks for."""
    pairs = sorted([name.strip().lower(), value.strip().lower()] for name, value in options.items())
    return json.dumps(pairs, ensure_ascii=False, separators=(",", ":"))


def option_pair_key(name: str, value: str) -> str:
    """What ``options_key`` holds for one (name, value) pair."""
    return json.dumps([name.strip().lower(), value.strip().lower()], ensure_ascii=False, separators=(",", ":"))


class Variant(TimeStampedModel):
    """One form a product is sold in: its own sku (unique within the store), price and stock.

    ``options`` maps each of the product's option names to one of its values (``{}`` for a product
    sold in one form); no two variants of a product share a combination (``options_key``). A variant
    an order references is deactivated, never deleted (order lines PROTECT it)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    # The product's store, copied: skus are unique per store.
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", db_index=False)
    sku = models.CharField(max_length=64)
    options = models.JSONField(default=dict, blank=True)
    options_key = models.TextField(default="[]")
    price = models.DecimalField(max_digits=12, decimal_places=2)
    stock = models.IntegerField(default=0)
    image = models.ForeignKey(
        "catalog.ProductImage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="catalog_variant_stock_not_negative"),
            models.CheckConstraint(
                condition=Q(price__gt=0) & Q(price__lte=MAX_PRICE), name="catalog_variant_price_in_range"
            ),
            models.UniqueConstraint(fields=["store", "sku"], name="catalog_variant_sku_unique_in_store"),
            models.UniqueConstraint(fields=["product", "options_key"], name="catalog_variant_one_per_combination"),
        ]

    def __str__(self) -> str:
        return self.sku

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


class Review(TimeStampedModel):
    """A buyer's rating of a product they received; one per buyer and product. The product's
    ``rating_avg``/``rating_count`` are recomputed in the same transaction as every new review."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=120, blank=True)
    body = models.TextField(max_length=5000, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "author"], name="catalog_review_one_per_buyer"),
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="catalog_review_rating_1_5"),
        ]
        indexes = [models.Index(fields=["product", "-created_at"], name="catalog_review_product_recent")]

    def __str__(self) -> str:
        return f"{self.rating}/5 on {self.product_id}"
