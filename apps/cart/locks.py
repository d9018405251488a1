"""Named row locks of the cart (one helper per lock)."""

from __future__ import annotations

from apps.accounts.models import User
from apps.cart.models import Cart


def lock_cart(*, user: User) -> Cart:
    """The user's cart (made on first use), locked for the rest of the transaction: one user's
    cart writes and checkouts run one after another. The lock is taken first, before any row the
    cart names (variants, products). One query for a cart that exists.

    A cart this transaction creates needs no second read: no other transaction sees the row (nor
    can insert another, the user being unique) until this one ends. When a concurrent first use
    made it meanwhile, get_or_create finds that one, which is then locked."""
    cart = Cart.objects.select_for_update().filter(user=user).order_by("pk").first()
    if cart is not None:
        return cart
    cart, created = Cart.objects.get_or_create(user=user)
    if created:
        return cart
    return Cart.objects.select_for_update().get(pk=cart.pk)
