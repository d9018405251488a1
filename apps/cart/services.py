"""Writes for the cart. Each runs under the cart row's lock (taken first, before any other row),
so one user's concurrent requests (and their checkout) are applied one after another.

A line is a quantity of one variant: two variants of one product are two lines. Adding to the
cart takes no stock; stock is checked against the variant's, and taken only at checkout."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Count, FilteredRelation, OuterRef, Q, Subquery
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from apps.accounts.models import User
from apps.cart.exceptions import OwnProduct, VariantRequired
from apps.cart.locks import lock_cart
from apps.cart.models import MAX_LINES, MAX_QUANTITY_PER_LINE, Cart, CartItem
from apps.catalog.compiled import Compiled
from apps.catalog.exceptions import OutOfStock
from apps.catalog.models import Product, Variant, options_key
from apps.core.exceptions import NotFound

# The one variant of a product sold in one form has no options.
NO_OPTIONS_KEY = options_key({})


def _for_sale(*, status: str, store_active: bool) -> bool:
    """Whether a product of ``status`` in a store open or not (``store_active``) can be bought."""
    return status == Product.Status.ACTIVE and store_active


# The markers the add's product statement is compiled with (apps.catalog.compiled slots): values
# no request sends, each bound once.
_SLOT_SLUG, _SLOT_SKU = "\x00slug", "\x00sku"
_SLOT_LINE_CART, _SLOT_COUNT_CART = -(2**62), -(2**62) - 1
_PRODUCT_WITH_LINE: dict[tuple[str, bool], Compiled] = {}
# What the add reads of the product, its store, its chosen variant and the cart's line of it.
PRODUCT_WITH_LINE_COLUMNS = (
    "pk",
    "slug",
    "name",
    "status",
    "options",
    "store__is_active",
    "store__owner_id",
    "chosen__id",
    "chosen__sku",
    "chosen__options",
    "chosen__stock",
    "chosen__is_active",
    "line_quantity",
    "line_count",
)


def _product_with_line_statement(*, using: str, by_sku: bool) -> Compiled:
    """The product of a slug with its store, its chosen variant (by sku, or the one without
    options), that variant's line in a cart and the cart's number of lines, in one statement,
    compiled once per database and kind of choice (issue 14: building it cost more than running it)."""
    statement = _PRODUCT_WITH_LINE.get((using, by_sku))
    if statement is None:
        chosen = Q(variants__sku=_SLOT_SKU) if by_sku else Q(variants__options_key=NO_OPTIONS_KEY)
        line = CartItem.objects.filter(cart_id=_SLOT_LINE_CART, variant_id=OuterRef("chosen__id"))
        count = CartItem.objects.filter(cart_id=_SLOT_COUNT_CART).order_by().values("cart_id")
        queryset = (
            Product.objects.filter(slug=_SLOT_SLUG)
            .annotate(chosen=FilteredRelation("variants", condition=chosen))
            .annotate(
                line_quantity=Subquery(line.values("quantity")[:1]),
                line_count=Subquery(count.annotate(n=Count("pk")).values("n")),
            )
            .values(*PRODUCT_WITH_LINE_COLUMNS)
        )
        slots = {"slug": _SLOT_SLUG, "line_cart": _SLOT_LINE_CART, "count_cart": _SLOT_COUNT_CART}
        if by_sku:
            slots["sku"] = _SLOT_SKU
        statement = _PRODUCT_WITH_LINE[(using, by_sku)] = Compiled.of(queryset, using=using, slots=slots)
    return statement


def _product_with_line(*, cart: Cart, slug: str, sku: str | None) -> dict[str, Any] | None:
    """The product ``slug`` with what adding to ``cart`` needs (PRODUCT_WITH_LINE_COLUMNS), read on
    the primary inside the add's transaction: ``chosen__*``, its variant ``sku`` (without a sku, its
    variant without options; None when it has no such variant); ``line_quantity``, the quantity of
    the cart's line of that variant (None: no line); ``line_count``, the cart's number of lines
    (None: none)."""
    connection = connections[DEFAULT_DB_ALIAS]
    bind = {"slug": slug, "line_cart": cart.pk, "count_cart": cart.pk}
    if sku is not None:
        bind["sku"] = sku
    rows = _product_with_line_statement(using=connection.alias, by_sku=sku is not None).rows(connection, bind=bind)
    return rows[0] if rows else None


def _variant_label(product: Product, variant: Variant) -> str:
    """ "Shirt (Red, M)": the values in the product's order of options (a JSON object's key order
    is not kept by PostgreSQL's jsonb)."""
    names = [option["name"] for option in product.options]
    values = ", ".join(str(variant.options[name]) for name in names if name in variant.options)
    return f"{product.name} ({values})" if values else product.name


def _check_stock(*, product: Product, variant: Variant, quantity: int) -> None:
    """Raises OutOfStock (409 ``insufficient_stock``) when ``variant`` has fewer than ``quantity``."""
    if quantity > variant.stock:
        raise OutOfStock(
            f"Only {variant.stock} of {_variant_label(product, variant)} in stock.",
            extra={"product": product.slug, "variant": variant.sku, "requested": quantity, "available": variant.stock},
        )


@transaction.atomic
def cart_item_add(*, user: User, product_slug: str, quantity: int, variant_sku: str | None = None) -> Cart:
    """Add ``quantity`` of a variant of a product, merging into the cart's line of that variant.

    ``variant_sku`` names one of the product's active variants; it may be left out for a product
    sold in one form (its one variant), not for a product with options. Raises NotFound (product
    unknown, draft, archived or of a closed store; variant unknown, inactive or another product's),
    OwnProduct, VariantRequired, ValidationError (over 99 on a line, or a 101st line), OutOfStock
    (more than the variant's stock, counting what the line holds). Nothing changes when it raises.
    Six statements, SAVEPOINT and RELEASE included: the cart's lock, the product, one write."""
    cart = lock_cart(user=user)
    found = _product_with_line(cart=cart, slug=product_slug, sku=variant_sku)
    if found is None or not _for_sale(status=found["status"], store_active=found["store__is_active"]):
        raise NotFound("Product not found.")
    if found["store__owner_id"] == user.pk:
        raise OwnProduct()
    if variant_sku is None and found["options"]:
        raise VariantRequired()
    if found["chosen__id"] is None or not found["chosen__is_active"]:  # no such variant, or inactive
        raise NotFound("Variant not found.")
    product = Product(pk=found["pk"], slug=found["slug"], name=found["name"], options=found["options"])
    variant = Variant(
        pk=found["chosen__id"], sku=found["chosen__sku"], options=found["chosen__options"], stock=found["chosen__stock"]
    )
    total = quantity + (found["line_quantity"] or 0)
    if total > MAX_QUANTITY_PER_LINE:
        raise ValidationError({"quantity": [f"At most {MAX_QUANTITY_PER_LINE} of one product per cart line."]})
    if found["line_quantity"] is None and (found["line_count"] or 0) >= MAX_LINES:
        raise ValidationError({"product": [f"A cart holds at most {MAX_LINES} different products."]})
    _check_stock(product=product, variant=variant, quantity=total)
    if found["line_quantity"] is None:
        CartItem.objects.create(cart=cart, product_id=product.pk, variant_id=variant.pk, quantity=total)
    else:
        CartItem.objects.filter(cart=cart, variant_id=variant.pk).update(quantity=total, updated_at=timezone.now())
    return cart


@transaction.atomic
def cart_item_set_quantity(*, user: User, item_id: int, quantity: int) -> Cart:
    """Set a line's quantity. Raises NotFound (not a line of this user's cart; or its product or
    variant no longer for sale: the buyer removes it) and OutOfStock (more than the variant's stock)."""
    cart = lock_cart(user=user)
    item = cart.items.select_related("product__store", "variant").filter(pk=item_id).first()
    if item is None:
        raise NotFound("Cart item not found.")
    if (
        not _for_sale(status=item.product.status, store_active=item.product.store.is_active)
        or not item.variant.is_active
    ):
        raise NotFound("This product is no longer for sale; remove it from the cart.")
    _check_stock(product=item.product, variant=item.variant, quantity=quantity)
    item.quantity = quantity
    item.save(update_fields=["quantity", "updated_at"])
    return cart


@transaction.atomic
def cart_item_remove(*, user: User, item_id: int) -> Cart:
    """Remove a line. Raises NotFound when it is not a line of this user's cart."""
    cart = lock_cart(user=user)
    deleted, _ = cart.items.filter(pk=item_id).delete()
    if not deleted:
        raise NotFound("Cart item not found.")
    return cart


@transaction.atomic
def cart_clear(*, user: User) -> None:
    cart = lock_cart(user=user)
    cart.items.all().delete()
