"""Named row locks of accounts (one helper per lock, as Saleor's ``lock_objects.py``)."""

from __future__ import annotations

from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.accounts.models import User


def lock_user(*, pk: int, active_only: bool = False) -> User | None:
    """The user, locked and freshly read (None when missing, or inactive with ``active_only``).
    A user's row also serialises their address writes and their store opening."""
    users = User.objects.select_for_update().filter(pk=pk)
    if active_only:
        users = users.filter(is_active=True)
    return users.first()


def lock_refresh_token(*, jti: str) -> OutstandingToken | None:
    """A refresh token's row: the loser of two concurrent refreshes sees it blacklisted."""
    return OutstandingToken.objects.select_for_update().filter(jti=jti).first()
