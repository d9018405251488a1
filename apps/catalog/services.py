"""Writes for the catalog: categories (staff), products (sellers), product images; a product's
variants are written by apps.catalog.variants."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import IO, Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, models, transaction
from django.db.models import Avg, Count
from rest_framework.exceptions import ValidationError
from treebeard.exceptions import InvalidMoveToDescendant

from apps.accounts.models import Store, User
from apps.catalog import tasks
from apps.catalog import variants as variant_rules
from apps.catalog.cache import catalog_changed
from apps.catalog.exceptions import AlreadyReviewed, CategoryInUse, HasVariants
from apps.catalog.images import image_prepare, thumbnail_render
from apps.catalog.locks import lock_product, lock_product_with_variants
from apps.catalog.models import Category, Product, ProductImage, Review
from apps.catalog.variants import VariantSpec
from apps.core.exceptions import SlugConflict
from apps.core.models import is_referenced
from apps.core.money import money
from apps.core.slugs import unique_slug
from apps.core.tasks import enqueue

logger = logging.getLogger(__name__)

SLUG_ATTEMPTS = 5
MAX_IMAGES_PER_PRODUCT = 20
PRODUCT_FIELDS = ("name", "description", "category", "status", "options")
_UNSET: Any = object()


# --- Categories -----------------------------------------------------------------------------


def category_create(*, name: str, parent: Category | None = None) -> Category:
    """Add a category (a root when ``parent`` is None), sorted among its siblings by name.

    The slug is made from the name, unique, and never changes. Raises SlugConflict
    if concurrent writers keep taking the slug or tree position."""
    for _ in range(SLUG_ATTEMPTS):
        try:
            with transaction.atomic():
                fields = {"name": name, "slug": unique_slug(model=Category, name=name, fallback="category")}
                if parent is None:
                    category = Category.objects.add_root(create_kwargs=fields)
                else:
                    category = Category.objects.add_child(parent, create_kwargs=fields)
        except IntegrityError:
            continue  # another writer took the slug or the tree path in between: pick again
        catalog_changed()
        return category
    raise SlugConflict("Could not add the category; try again.")


@transaction.atomic
def category_update(*, category: Category, name: str | None = None, parent: Category | None = _UNSET) -> Category:
    """Rename and/or move a category (with its subtree). ``parent=None`` makes it a root.

    Raises ValidationError on ``parent`` when moving it under itself or a descendant."""
    renamed = name is not None and name != category.name
    if renamed:
        category.name = name
        category.save(update_fields=["name"])
    current_parent = Category.objects.get_parent(category, update=True)
    new_parent = current_parent if parent is _UNSET else parent
    if not renamed and getattr(new_parent, "pk", None) == getattr(current_parent, "pk", None):
        return category
    catalog_changed()
    try:
        # Re-placed after a rename too: siblings stay sorted by name.
        if new_parent is None:
            Category.objects.move(category, Category.objects.get_first_root_node(), "sorted-sibling")
        else:
            Category.objects.move(category, new_parent, "sorted-child")
    except InvalidMoveToDescendant:
        raise ValidationError({"parent": ["A category cannot move under itself or one of its descendants."]}) from None
    category.refresh_from_db()
    return category


@transaction.atomic
def category_delete(*, category: Category) -> None:
    """Delete a category and its subtree. Raises CategoryInUse while any product
    (of any status) is filed under it or a descendant."""
    subtree = Category.objects.filter(path__startswith=category.path)
    if Product.objects.filter(category__in=subtree.values("pk")).exists():
        raise CategoryInUse("Products are filed under this category or its subcategories.")
    try:
        category.delete()
    except models.ProtectedError:
        raise CategoryInUse() from None
    catalog_changed()


# --- Products -------------------------------------------------------------------------------


def product_create(
    *,
    store: Store,
    name: str,
    category: Category,
    price: Decimal | None = None,
    stock: int | None = None,
    options: list[dict[str, Any]] | None = None,
    variants: list[dict[str, Any]] | None = None,
    description: str = "",
    status: str = Product.Status.DRAFT,
) -> Product:
    """Add a product to ``store`` with its variants; the slug is made from the name, unique, and
    never changes.

    Two forms (API.md, Variants): round 1's ``price`` (and ``stock``, default 0) make one variant
    without options, its sku generated; ``options`` with ``variants`` make those (apps.catalog.
    variants: every rule there). Both forms at once, or neither, raise ValidationError. The
    product's price and stock are derived from its variants. Raises SlugConflict if concurrent
    writers keep taking the slug."""
    simple = price is not None or stock is not None
    if simple and (options is not None or variants is not None):
        raise ValidationError({"non_field_errors": ["Send either price and stock, or options and variants, not both."]})
    if simple:
        if price is None:
            raise ValidationError({"price": ["This field is required."]})
        options, specs = [], [VariantSpec(options={}, price=price, stock=stock or 0)]
    else:
        if variants is None:
            raise ValidationError(
                {"price": ["This field is required."]} if options is None else {"variants": ["This field is required."]}
            )
        options = variant_rules.options_clean(options or [])
        specs = variant_rules.variant_specs_clean(product_options=options, variants=variants)
    for _ in range(SLUG_ATTEMPTS):
        slug = unique_slug(model=Product, name=name, fallback="product")
        try:
            with transaction.atomic():
                product = Product.objects.create(
                    store=store,
                    name=name,
                    slug=slug,
                    description=description,
                    options=options,
                    price=min(spec.price for spec in specs),  # derived: every new variant is active
                    category=category,
                    stock=sum(spec.stock for spec in specs),
                    status=status,
                )
                variant_rules.variants_bulk_make(product=product, specs=specs)
        except IntegrityError:
            if Product.objects.filter(slug=slug).exists():
                continue  # another writer took the slug meanwhile: pick again
            if simple or any(spec.sku is None for spec in specs):
                continue  # a generated sku was taken meanwhile: generate again
            raise ValidationError({"variants": ["A sku was taken meanwhile in this store; try again."]}) from None
        catalog_changed()
        return product
    raise SlugConflict("Could not pick a unique product address; try again.")


@transaction.atomic
def product_update(*, product: Product, data: dict[str, Any]) -> Product:
    """Change the given fields among PRODUCT_FIELDS; the slug stays, so links keep working.

    ``price`` and ``stock`` belong to the variants: on a product sold in one form they change its
    one variant; on a product with options they raise HasVariants (change its variants instead).
    ``options`` may only gain values (apps.catalog.variants.options_extend). Runs under the
    product's variants' and row locks."""
    locked, _ = lock_product_with_variants(pk=product.pk)
    if locked.options and ("price" in data or "stock" in data):
        raise HasVariants()
    data = dict(data)
    if "options" in data:
        data["options"] = variant_rules.options_extend(current=locked.options, given=data["options"])
    changed = [field for field in PRODUCT_FIELDS if field in data]
    for field in changed:
        setattr(product, field, data[field])
    if changed:
        product.save(update_fields=[*changed, "updated_at"])
    variant_rules.product_variant_set(product=product, price=data.get("price"), stock=data.get("stock"))
    if changed or "price" in data or "stock" in data:
        product.refresh_from_db(fields=["price", "stock"])
        catalog_changed()
    return product


def product_is_referenced(*, product: Product) -> bool:
    """True when a row that must keep pointing at the product exists (an order line, later).

    Any model that references Product with on_delete=PROTECT or RESTRICT counts, so the orders
    app extends this check by declaring its foreign key, with no change here."""
    return is_referenced(product)


def _product_archive(*, product: Product) -> None:
    product.status = Product.Status.ARCHIVED
    product.save(update_fields=["status", "updated_at"])
    catalog_changed()


def product_delete(*, product: Product) -> bool:
    """Delete the product with its images (files too, after commit), or archive it instead when
    it is referenced (product_is_referenced). Returns True when deleted, False when archived."""
    with transaction.atomic():
        product, _ = lock_product_with_variants(pk=product.pk)
        if product_is_referenced(product=product):
            _product_archive(product=product)
            return False
        names = [name for pair in product.images.values_list("image", "thumbnail") for name in pair if name]
        try:
            with transaction.atomic():
                product.delete()
        except (models.ProtectedError, models.RestrictedError):
            _product_archive(product=product)  # referenced by a model product_is_referenced missed
            return False
        transaction.on_commit(lambda: _storage_delete(names=names), robust=True)
        catalog_changed()
    return True


# --- Images ---------------------------------------------------------------------------------


def _storage_delete(*, names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def product_image_add(
    *, product: Product, file: IO[bytes], size: int, alt_text: str = "", position: int | None = None
) -> ProductImage:
    """Validate, re-encode and store an image, then queue its thumbnail (a task) for after commit;
    until it exists the image answers with the placeholder thumbnail.

    ``position`` defaults to after the last image. Raises ValidationError on ``image`` for a file
    that is not an acceptable image (images.image_prepare) or when the product has
    MAX_IMAGES_PER_PRODUCT images already."""
    prepared = image_prepare(file=file, size=size)
    name = default_storage.save(
        f"products/{product.pk}/{uuid.uuid4().hex}.{prepared.extension}", ContentFile(prepared.content)
    )
    try:
        with transaction.atomic():
            lock_product(pk=product.pk)  # one adder at a time
            existing = list(ProductImage.objects.filter(product=product).values_list("position", flat=True))
            if len(existing) >= MAX_IMAGES_PER_PRODUCT:
                raise ValidationError({"image": [f"A product has at most {MAX_IMAGES_PER_PRODUCT} images."]})
            image = ProductImage.objects.create(
                product=product,
                image=name,
                width=prepared.width,
                height=prepared.height,
                alt_text=alt_text,
                position=position if position is not None else max(existing, default=-1) + 1,
            )
            catalog_changed()
            enqueue(tasks.image_make_thumbnail, image_id=image.pk)
    except BaseException:
        default_storage.delete(name)
        raise
    image.refresh_from_db()  # without a broker the thumbnail was made inline at the commit
    return image


def image_make_thumbnail(*, image_id: int) -> None:
    """Make the WebP thumbnail of a stored image. Idempotent; a no-op for a deleted image.

    Called by the ``catalog.image_make_thumbnail`` task after the upload commits."""
    image = ProductImage.objects.filter(pk=image_id).first()
    if image is None or image.thumbnail:
        return
    with default_storage.open(image.image.name, "rb") as stored:
        data = stored.read()
    name = default_storage.save(
        f"products/{image.product_id}/thumbs/{uuid.uuid4().hex}.webp", ContentFile(thumbnail_render(data=data))
    )
    if not ProductImage.objects.filter(pk=image_id, thumbnail="").update(thumbnail=name):
        default_storage.delete(name)  # deleted meanwhile, or another run made it first
        return
    catalog_changed()


def product_image_delete(*, image: ProductImage) -> None:
    """Delete the image row, then (after commit) its files."""
    names = [name for name in (image.image.name, image.thumbnail.name) if name]
    with transaction.atomic():
        image.delete()
        transaction.on_commit(lambda: _storage_delete(names=names), robust=True)
        catalog_changed()


def review_add(*, author: User, product: Product, rating: int, title: str = "", body: str = "") -> Review:
    """Add the author's review and update the product's rating in one transaction. Who may review
    is the caller's rule: apps.orders.reviews.review_create lets buyers who received the product.

    Raises AlreadyReviewed."""
    try:
        with transaction.atomic():
            lock_product(pk=product.pk)
            if Review.objects.filter(product=product, author=author).exists():
                raise AlreadyReviewed()
            review = Review.objects.create(product=product, author=author, rating=rating, title=title, body=body)
            stats = Review.objects.filter(product=product).aggregate(average=Avg("rating"), count=Count("id"))
            Product.objects.filter(pk=product.pk).update(
                rating_avg=money(Decimal(str(stats["average"]))), rating_count=stats["count"]
            )
            catalog_changed()
    except IntegrityError as error:  # the same buyer's concurrent second review
        raise AlreadyReviewed() from error
    return review
