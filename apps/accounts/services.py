"""Writes for accounts: registration, profile, passwords, addresses, stores, tokens, staff two-factor enrolment."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.exceptions import ValidationError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.cache import stores_changed
from apps.accounts.exceptions import NotStaff, StoreExists
from apps.accounts.locks import lock_user
from apps.accounts.models import Address, Store, User, UserManager, default_preferences
from apps.core.emails import email_send
from apps.core.exceptions import SlugConflict
from apps.core.slugs import unique_slug

MAX_ADDRESSES_PER_USER = 20
SLUG_ATTEMPTS = 5


def _check_password(*, password: str, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as error:
        raise ValidationError({field: list(error.messages)}) from error


@transaction.atomic
def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User:
    """Create a buyer account. Raises ValidationError for a taken email (any letter case) or a weak password."""
    email = UserManager.normalize_email_address(email)
    candidate = User(email=email, first_name=first_name, last_name=last_name)
    _check_password(password=password, user=candidate, field="password")
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": ["An account with this email already exists."]})
    try:
        with transaction.atomic():
            return User.objects.create_user(email, password, first_name=first_name, last_name=last_name)
    except IntegrityError as error:  # a concurrent registration with the same email won
        raise ValidationError({"email": ["An account with this email already exists."]}) from error


@transaction.atomic
def user_update(*, user: User, data: dict[str, Any]) -> User:
    """Apply profile changes; ``preferences`` is merged key by key over the stored ones."""
    for field in ("first_name", "last_name", "phone"):
        if field in data:
            setattr(user, field, data[field])
    if "preferences" in data:
        user.preferences = {**default_preferences(), **(user.preferences or {}), **data["preferences"]}
    user.save(update_fields=["first_name", "last_name", "phone", "preferences"])
    return user


def _blacklist_all_refresh_tokens(*, user: User) -> None:
    for token in OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False):
        BlacklistedToken.objects.get_or_create(token=token)


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Anonymise personal data and deactivate the account; orders stay for the sellers' books."""
    user = lock_user(pk=user.pk)
    user.email = f"deleted-{uuid.uuid4().hex}@deleted.invalid"
    user.first_name = user.last_name = user.phone = ""
    user.preferences = default_preferences()
    user.is_active = False
    user.set_unusable_password()
    user.save()
    user.addresses.all().delete()
    if Store.objects.filter(owner=user).update(is_active=False):
        stores_changed()  # the store's products leave the catalog
    _blacklist_all_refresh_tokens(user=user)


@transaction.atomic
def user_change_password(*, user: User, old_password: str, new_password: str) -> None:
    """Raises ValidationError for a wrong old password or a weak new one. Other sessions end."""
    if not user.check_password(old_password):
        raise ValidationError({"old_password": ["The current password is wrong."]})
    _check_password(password=new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    _blacklist_all_refresh_tokens(user=user)


def password_reset_request(*, email: str) -> None:
    """Mail a reset link when an active account with a usable password has this email; else nothing.

    The caller answers the same either way, so the response never tells whether the account exists.
    """
    user = User.objects.filter(email=UserManager.normalize_email_address(email), is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    email_send(
        to=[user.email],
        template="password_reset",
        context={"user": user, "uid": uid, "token": token},
    )


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> None:
    """Set a new password from a mailed token. The token dies with the password change (single use)
    and after PASSWORD_RESET_TIMEOUT. Raises ValidationError for a bad or used token or a weak password."""
    invalid = ValidationError({"token": ["The reset link is invalid or has expired."]})
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        raise invalid from None
    user = lock_user(pk=pk, active_only=True)
    if user is None or not default_token_generator.check_token(user, token):
        raise invalid
    _check_password(password=new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    _blacklist_all_refresh_tokens(user=user)


def token_logout(*, user: User, refresh: str) -> None:
    """Blacklist one refresh token of this user's. Raises ValidationError if it is not a live one of theirs."""
    try:
        token = RefreshToken(refresh)
    except TokenError as error:
        raise ValidationError({"refresh": ["The token is invalid or expired."]}) from error
    if str(token.get("user_id")) != str(user.pk):
        raise ValidationError({"refresh": ["The token is invalid or expired."]})
    token.blacklist()


@transaction.atomic
def address_create(*, user: User, data: dict[str, Any]) -> Address:
    """Add an address; the first one, or one sent with ``is_default``, becomes the only default."""
    lock_user(pk=user.pk)  # serialises address writes per user
    existing = user.addresses.count()
    if existing >= MAX_ADDRESSES_PER_USER:
        raise ValidationError({"non_field_errors": [f"At most {MAX_ADDRESSES_PER_USER} addresses per account."]})
    make_default = bool(data.pop("is_default", False)) or existing == 0
    if make_default:
        user.addresses.filter(is_default=True).update(is_default=False)
    return Address.objects.create(user=user, is_default=make_default, **data)


@transaction.atomic
def address_update(*, address: Address, data: dict[str, Any]) -> Address:
    lock_user(pk=address.user_id)
    if data.get("is_default") is True:
        Address.objects.filter(user_id=address.user_id, is_default=True).exclude(pk=address.pk).update(is_default=False)
    for field, value in data.items():
        setattr(address, field, value)
    address.save()
    return address


@transaction.atomic
def address_delete(*, address: Address) -> None:
    address.delete()


def store_open(*, user: User, name: str, description: str = "") -> Store:
    """Open the user's store and make them a seller. Raises StoreExists on a second call."""
    for _ in range(SLUG_ATTEMPTS):
        try:
            with transaction.atomic():
                locked = lock_user(pk=user.pk)
                if Store.objects.filter(owner=locked).exists():
                    raise StoreExists()
                store = Store.objects.create(
                    owner=locked,
                    name=name,
                    description=description,
                    slug=unique_slug(model=Store, name=name, fallback="store"),
                )
                User.objects.filter(pk=user.pk).update(is_seller=True)
        except IntegrityError:
            if Store.objects.filter(owner_id=user.pk).exists():
                raise StoreExists() from None
            continue  # another store took the slug between our check and insert: pick again
        user.is_seller = True
        return store
    raise SlugConflict("Could not pick a unique store address; try again.")


@transaction.atomic
def store_update(*, store: Store, data: dict[str, Any]) -> Store:
    """Change name and description; the slug stays, so links keep working."""
    renamed = "name" in data and data["name"] != store.name
    for field in ("name", "description"):
        if field in data:
            setattr(store, field, data[field])
    store.save(update_fields=["name", "description", "updated_at"])
    if renamed:
        stores_changed()  # products embed the store's name
    return store


COMMISSION_RATE_MIN = Decimal("0")
COMMISSION_RATE_MAX = Decimal("100")


@transaction.atomic
def store_commission_set(*, store: Store, rate: Decimal | None, actor: User) -> Store:
    """Set the store's commission override (percent, 0 to 100, two decimals) or clear it with
    None, so the deployment's COMMISSION_RATE applies again. ``actor`` is the staff member asking
    (the admin action, gated by the ``set_commission`` permission, logs it; this service does not
    check it). Orders placed already keep the rate they snapshotted. Raises ValidationError naming
    ``commission_rate`` for a rate out of range or with more than two decimals."""
    if rate is not None:
        try:
            rate = Decimal(rate)
            valid = rate.is_finite() and COMMISSION_RATE_MIN <= rate <= COMMISSION_RATE_MAX
            valid = valid and rate == rate.quantize(Decimal("0.01"))
        except (InvalidOperation, TypeError, ValueError):
            valid = False
        if not valid:
            raise ValidationError({"commission_rate": ["Enter a percent from 0 to 100 with at most two decimals."]})
        rate = rate.quantize(Decimal("0.01"))
    locked = Store.objects.select_for_update().get(pk=store.pk)
    locked.commission_rate = rate
    locked.save(update_fields=["commission_rate", "updated_at"])
    store.commission_rate, store.updated_at = locked.commission_rate, locked.updated_at
    return locked


# --- the staff login's second factor (apps/accounts/admin_site.py) ------------------------------

TOTP_DEVICE_NAME = "admin"
BACKUP_DEVICE_NAME = "backup codes"
BACKUP_CODE_COUNT = 10


@dataclass(frozen=True)
class StaffEnrolment:
    """What the staff member needs, shown once: the authenticator app's otpauth:// URI (which
    holds the secret key) and the single-use backup codes."""

    device: TOTPDevice
    provisioning_uri: str
    backup_codes: list[str]


@transaction.atomic
def staff_two_factor_enrol(*, user: User, reset: bool = False) -> StaffEnrolment | None:
    """Give a staff member a confirmed TOTP device and BACKUP_CODE_COUNT backup codes (one static
    device), replacing with ``reset`` every device they had: the old app's codes and backup codes
    stop working, and admin sessions they verified are no longer verified. Without ``reset`` a
    member who has a device keeps it and None is returned (nothing changes, nothing is shown
    again). Raises NotStaff for a user who is not staff."""
    locked = lock_user(pk=user.pk)  # two enrolments of one member run one after the other
    if locked is None or not locked.is_staff:
        raise NotStaff()
    if any(devices_for_user(locked, confirmed=None)) and not reset:
        return None
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=locked).delete()
    device = TOTPDevice.objects.create(user=locked, name=TOTP_DEVICE_NAME, confirmed=True)
    backup = StaticDevice.objects.create(user=locked, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes: list[str] = []
    while len(codes) < BACKUP_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create(StaticToken(device=backup, token=code) for code in codes)
    return StaffEnrolment(device=device, provisioning_uri=device.config_url, backup_codes=codes)
