"""Brute-force protection of the admin login, on django-axes (settings: "Staff login").

Axes records every failed admin login in the database (``AccessAttempt``: one row per account,
address and user agent, with its failure count, its last failure's time), which every app server
shares. This module fits it to Bazaar:

- only the admin login counts (``AXES_ONLY_ADMIN_SITE`` and :class:`AdminLoginHandler`): the API's
  login keeps its own throttles (apps/core/throttling.py) and its failures are not recorded here;
- two limits where axes has one: ``AXES_FAILURE_LIMIT`` failures for one account (from any
  address) or ``ADMIN_LOGIN_FAILURES_PER_ADDRESS`` failures from one address (over any accounts)
  within the cool-off (``AXES_COOLOFF_TIME``) lock the login. Every further attempt, the right
  password included, is refused until the failures that made the lock are older than the
  cool-off; refused attempts are not counted (``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT``
  is off), so they do not extend it;
- the address is the one the API's throttles use (``NUM_PROXIES``), the account the email as
  accounts store it (lower-cased);
- a refusal is answered 429 with ``Retry-After`` and a page saying what is locked and until when,
  and logged at WARNING (with the request id, as every record written during a request).

Any ``user_login_failed`` signal sent with an admin request counts as one failure: Django sends it
for a wrong password, and a wrong second factor counts the same when it is sent with
``credentials={"username": email}`` and ``request``.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render

from apps.accounts.models import User
from apps.core.throttling import client_address as throttle_client_address

logger = logging.getLogger(__name__)


def login_username(request, credentials: dict | None) -> str | None:
    """The account an attempt is for (``AXES_USERNAME_CALLABLE``): ``username`` (the admin form) or
    ``email`` from the credentials, else the posted ``username``; lower-cased as accounts store
    emails, so ``Staff@X`` and ``staff@x`` are one account to count."""
    raw = None
    if credentials:
        raw = credentials.get("username") or credentials.get("email")
    if raw is None:
        raw = getattr(request, "POST", {}).get("username")
    if not isinstance(raw, str) or not raw.strip():
        return None
    return User.objects.normalize_email_address(raw)


def client_address(request) -> str | None:
    """The client's address (``AXES_CLIENT_IP_CALLABLE``), by the throttles' ``NUM_PROXIES`` rule.

    A forwarded entry that is no IP address (junk sent past a proxy count larger than the real
    one) falls back to the socket peer: the attempts table holds addresses only."""
    address = throttle_client_address(request)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return request.META.get("REMOTE_ADDR")
    return address


@dataclass(frozen=True)
class LoginLock:
    """The failures counted against an attempt's account and address within the cool-off, and
    until when each of them is locked (None: not locked)."""

    account: str | None
    address: str | None
    account_failures: int
    address_failures: int
    account_locked_until: datetime | None
    address_locked_until: datetime | None

    @property
    def locked_until(self) -> datetime | None:
        return max(filter(None, (self.account_locked_until, self.address_locked_until)), default=None)


def _failures(attempts: QuerySet, *, limit: int, cool_off: timedelta) -> tuple[int, datetime | None]:
    """The failures of ``attempts`` and when they stop locking: ``limit`` of them, newest first,
    reach back to some row; once that row is older than the cool-off fewer than ``limit`` count."""
    total, locked_until = 0, None
    for attempt_time, failures in attempts.order_by("-attempt_time").values_list(
        "attempt_time", "failures_since_start"
    ):
        total += failures
        if locked_until is None and total >= limit:
            locked_until = attempt_time + cool_off
    return total, locked_until


def login_lock(request, credentials: dict | None = None) -> LoginLock:
    """The lock on an admin login attempt (a request axes has stamped: ``axes_ip_address``,
    ``axes_attempt_time``), as of that attempt's time."""
    cool_off = get_cool_off(request)
    recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
    account = get_client_username(request, credentials)
    address = request.axes_ip_address
    account_failures, account_locked_until = _failures(
        recent.filter(username=account), limit=settings.AXES_FAILURE_LIMIT, cool_off=cool_off
    )
    address_failures, address_locked_until = _failures(
        recent.filter(ip_address=address), limit=settings.ADMIN_LOGIN_FAILURES_PER_ADDRESS, cool_off=cool_off
    )
    return LoginLock(
        account=account,
        address=address,
        account_failures=account_failures,
        address_failures=address_failures,
        account_locked_until=account_locked_until,
        address_locked_until=address_locked_until,
    )


class AdminLoginHandler(AxesDatabaseHandler):
    """Axes' database handler (``AXES_HANDLER``) with Bazaar's two limits, counting admin logins only."""

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        # AXES_ONLY_ADMIN_SITE exempts other paths from the lock but not from being recorded: the
        # API's failed logins (its throttles answer them) would otherwise lock staff out of the admin.
        if request is not None and not self.is_admin_request(request):
            return
        super().user_login_failed(sender, credentials, request, **kwargs)

    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The number axes compares with ``AXES_FAILURE_LIMIT`` (the per-account limit), both to
        refuse an attempt and to lock after a failure: the account's failures, raised to that limit
        while the address is locked by its own."""
        lock = login_lock(request, credentials)
        if lock.address_locked_until is not None:
            return max(lock.account_failures, settings.AXES_FAILURE_LIMIT)
        return lock.account_failures


def lockout_response(request, original_response, credentials: dict | None) -> HttpResponse:
    """The answer to a refused admin login (``AXES_LOCKOUT_CALLABLE``), the one that locked
    included: 429 with ``Retry-After`` and a page saying what is locked and until when."""
    lock = login_lock(request, credentials)
    # Unlocked by staff between the refusal and this answer: the whole cool-off is the safe estimate.
    locked_until = lock.locked_until or request.axes_attempt_time + get_cool_off(request)
    seconds = max(1, math.ceil((locked_until - request.axes_attempt_time).total_seconds()))
    logger.warning(
        "admin login refused: locked until %s (account %s: %d failures, address %s: %d failures)",
        locked_until.isoformat(timespec="seconds"),
        lock.account,
        lock.account_failures,
        lock.address,
        lock.address_failures,
    )
    context = {
        **admin.site.each_context(request),
        "title": "Sign-in locked",
        "account": lock.account if lock.account_locked_until else None,
        "address_locked": lock.address_locked_until is not None,
        "minutes": math.ceil(seconds / 60),
        "locked_until": locked_until,
    }
    response = render(request, "admin/login_locked.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
    response["Retry-After"] = str(seconds)
    return response
