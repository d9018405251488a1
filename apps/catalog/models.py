"""The catalog: a category tree, sellers' products and their images.

Search on PostgreSQL uses ``Product.search_vector``, kept current by a database trigger and
GIN-indexed (migration 0002); both exist only on PostgreSQL, so the model does not declare them.
"""

from __future__ import annotations

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
