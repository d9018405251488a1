"""Named row locks of the cart (one helper per lock)."""

from __future__ import annotations

from apps.accounts.models import User
from apps.cart.models import Cart


def lock_cart(*, user: User) -> Cart:
    """The user's cart (made on first use), locked for the rest of the transaction: one user's
    cart writes and checkouts run one after another."""
    cart, _ = Cart.objects.get_or_create(user=user)
    return Cart.objects.select_for_update().get(pk=cart.pk)
