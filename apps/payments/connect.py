"""Sellers' payout accounts (Stripe Connect Express, or the simulated provider's).

A store gets its account on its seller's first request for an onboarding link; the provider is
asked under a key made of the store's slug, so a retry (a lost answer, two requests at once)
answers the account the first call made instead of opening a second one. The account's state
follows the provider's ``account.updated`` events (``connect_account_apply``), or the simulated
provider's onboarding page. No row is locked while the provider is asked.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Store, User
from apps.payments.exceptions import PayoutProviderUnavailable
from apps.payments.models import ConnectAccount
from apps.payments.providers import get_provider
from apps.payments.providers.base import AccountLinkResult, ProviderError
from apps.payments.providers.simulated import SimulatedProvider

logger = logging.getLogger(__name__)

# Where the provider sends the seller back: when the form is done (return), or when the link
# expired or was used already (refresh: the storefront asks for a new link).
RETURN_PATH = "/seller/payouts/return"
REFRESH_PATH = "/seller/payouts/refresh"


def connect_account_key(*, store: Store) -> str:
    """The idempotency key of the call that opens the store's account (stable across retries and
    databases: the slug never changes)."""
    return f"store-{store.slug}-connect-account"


def connect_account_link(*, store: Store, user: User) -> AccountLinkResult:
    """An onboarding link for the store's payout account, opening the account (with ``user``'s
    email) on the first call and reusing it after. Raises PayoutProviderUnavailable (503) when
    the provider fails; an account the provider opened before failing is found again by the
    same key on the next call."""
    account = ConnectAccount.objects.filter(store=store).first()
    try:
        if account is None:
            account = _connect_account_open(store=store, user=user)
        return get_provider(account.provider).connect_account_link(
            account_ref=account.reference,
            refresh_url=f"{settings.FRONTEND_URL}{REFRESH_PATH}",
            return_url=f"{settings.FRONTEND_URL}{RETURN_PATH}",
        )
    except ProviderError as error:
        logger.warning("payout account link for store %s failed: %s", store.slug, error)
        raise PayoutProviderUnavailable() from error


def _connect_account_open(*, store: Store, user: User) -> ConnectAccount:
    provider = get_provider()
    result = provider.connect_account_create(
        email=user.email, country=None, idempotency_key=connect_account_key(store=store)
    )
    try:
        with transaction.atomic():
            return ConnectAccount.objects.create(
                store=store,
                provider=provider.name,
                reference=result.reference,
                details_submitted=result.details_submitted,
                payouts_enabled=result.payouts_enabled,
            )
    except IntegrityError:  # a concurrent request recorded it first (the same key: the same account)
        return ConnectAccount.objects.get(store=store)


def connect_account_apply(
    *,
    provider_name: str,
    reference: str,
    details_submitted: bool,
    payouts_enabled: bool,
    as_of: datetime | None = None,
) -> ConnectAccount | None:
    """Record what the provider says about an account (an ``account.updated`` event, the
    simulated onboarding page) as of ``as_of`` (the event's creation time; None: now, and
    always applied). Idempotent: a replay writes the same values; a state older than the one
    recorded changes nothing. None, changing nothing, for an account Bazaar does not know."""
    with transaction.atomic():
        account = (
            ConnectAccount.objects.select_for_update()
            .filter(provider=provider_name, reference=reference)
            .order_by("pk")
            .first()
        )
        if account is None:
            return None
        if as_of is not None and account.state_as_of is not None and as_of < account.state_as_of:
            return account
        account.details_submitted, account.payouts_enabled = details_submitted, payouts_enabled
        account.state_as_of = as_of or timezone.now()
        account.save(update_fields=["details_submitted", "payouts_enabled", "state_as_of", "updated_at"])
    return account


def connect_account_status(*, store: Store) -> tuple[str, bool]:
    """The store's payout account status (``none``, ``onboarding``, ``enabled``, ``restricted``)
    and whether payouts are enabled."""
    account = ConnectAccount.objects.filter(store=store).only("details_submitted", "payouts_enabled").first()
    if account is None:
        return ConnectAccount.Status.NONE, False
    return account.status, account.payouts_enabled


def connect_simulated_onboard(*, token: str) -> tuple[ConnectAccount, str] | None:
    """The simulated provider's onboarding page was opened: the provider enables the account its
    link names, and Bazaar records it as a webhook would. Returns the account and the link's return
    URL, or None (changing nothing) for an unknown or expired token, or an account Bazaar does not
    know."""
    outcome = SimulatedProvider().onboarding_complete(token=token)
    if outcome is None:
        return None
    result, return_url = outcome
    account = connect_account_apply(
        provider_name=SimulatedProvider.name,
        reference=result.reference,
        details_submitted=result.details_submitted,
        payouts_enabled=result.payouts_enabled,
    )
    return None if account is None else (account, return_url)
