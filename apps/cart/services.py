"""Writes for the cart. Each runs under the cart row's lock, so one user's concurrent requests
(and their checkout) are applied one after another."""

from __future__ import annotations

from django.db import transaction
from rest_framework.exceptions import ValidationError

from apps.accounts.models import User
from apps.cart.exceptions import OwnProduct
from apps.cart.locks import lock_cart
from apps.cart.models import MAX_LINES, MAX_QUANTITY_PER_LINE, Cart, CartItem
from apps.catalog.exceptions import OutOfStock
from apps.catalog.models import Product
from apps.core.exceptions import NotFound


def _for_sale(queryset):
    return queryset.filter(status=Product.Status.ACTIVE, store__is_active=True)


def _buyable_product(*, slug: str, user: User) -> Product:
    product = _for_sale(Product.objects.select_related("store").filter(slug=slug)).first()
    if product is None:
        raise NotFound("Product not found.")
    if product.store.owner_id == user.pk:
        raise OwnProduct()
    return product


def _check_stock(*, product: Product, quantity: int) -> None:
    if quantity > product.stock:
        raise OutOfStock(
            f"Only {product.stock} of {product.name} in stock.",
            extra={"product": product.slug, "requested": quantity, "available": product.stock},
        )


@transaction.atomic
def cart_item_add(*, user: User, product_slug: str, quantity: int) -> Cart:
    """Add ``quantity`` of a product, merging into its line. Raises NotFound (unknown, draft or
    archived), OwnProduct, ValidationError (over 99 on a line or over 100 lines), OutOfStock."""
    cart = lock_cart(user=user)
    product = _buyable_product(slug=product_slug, user=user)
    item = cart.items.filter(product=product).first()
    total = quantity + (item.quantity if item else 0)
    if total > MAX_QUANTITY_PER_LINE:
        raise ValidationError({"quantity": [f"At most {MAX_QUANTITY_PER_LINE} of one product per cart line."]})
    if item is None and cart.items.count() >= MAX_LINES:
        raise ValidationError({"product": [f"A cart holds at most {MAX_LINES} different products."]})
    _check_stock(product=product, quantity=total)
    if item is None:
        variant = product.variants.filter(is_active=True).order_by("pk").first()  # interim: variants come next
        CartItem.objects.create(cart=cart, product=product, variant=variant, quantity=total)
    else:
        item.quantity = total
        item.save(update_fields=["quantity", "updated_at"])
    cart.save(update_fields=["updated_at"])
    return cart


@transaction.atomic
def cart_item_set_quantity(*, user: User, item_id: int, quantity: int) -> Cart:
    cart = lock_cart(user=user)
    item = cart.items.select_related("product").filter(pk=item_id).first()
    if item is None:
        raise NotFound("Cart item not found.")
    if not _for_sale(Product.objects.filter(pk=item.product_id)).exists():
        raise NotFound("This product is no longer for sale; remove it from the cart.")
    _check_stock(product=item.product, quantity=quantity)
    item.quantity = quantity
    item.save(update_fields=["quantity", "updated_at"])
    cart.save(update_fields=["updated_at"])
    return cart


@transaction.atomic
def cart_item_remove(*, user: User, item_id: int) -> Cart:
    cart = lock_cart(user=user)
    deleted, _ = cart.items.filter(pk=item_id).delete()
    if not deleted:
        raise NotFound("Cart item not found.")
    cart.save(update_fields=["updated_at"])
    return cart


@transaction.atomic
def cart_clear(*, user: User) -> None:
    cart = lock_cart(user=user)
    cart.items.all().delete()
