"""Cache-backed throttles. Counters live in the default cache (Redis when REDIS_URL is set), so a
limit holds across app servers. Throttles never fail open: while that cache is unreachable, each
process counts requests in memory of its own and applies the same rates there (a deployment of P
processes then allows at most P times a rate), logging a warning; as soon as the shared cache
answers again its counters are used again. The client address is DRF's ``get_ident``, which
honours ``NUM_PROXIES``: with no trusted proxy a client-supplied X-Forwarded-For is ignored.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework.throttling import AnonRateThrottle, BaseThrottle, SimpleRateThrottle, UserRateThrottle

from apps.core.cache import CACHE_ERRORS

logger = logging.getLogger(__name__)


class LocalCounters:
    """Throttle counters this process keeps for itself while the shared cache is unreachable.

    Bounded (the least recently used keys go first, and an active client's key is used on every
    request). ``lock`` makes a read and its write one step across the threads of a process, so the
    local limit is exact there. The warning is logged at most once per ``WARN_EVERY_SECONDS``, with
    the cache's error, not once per request of an outage."""

    WARN_EVERY_SECONDS = 60.0
    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self.cache = LocMemCache("bazaar-throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": self.MAX_ENTRIES}})
        self.lock = threading.Lock()
        self._warned_at: float | None = None

    def warn(self, throttle: str) -> None:
        now = time.monotonic()
        with self.lock:
            if self._warned_at is not None and now - self._warned_at < self.WARN_EVERY_SECONDS:
                return
            self._warned_at = now
        logger.warning(
            "throttle %s: cache unreachable, requests are counted per process until it is back",
            throttle,
            exc_info=True,
        )

    def reset(self) -> None:
        with self.lock:
            self.cache.clear()
            self._warned_at = None


local_counters = LocalCounters()


def client_address(request) -> str | None:
    """The client's address as every throttle sees it (DRF's ``get_ident`` under ``NUM_PROXIES``):
    with no trusted proxy the socket peer, else the entry the nearest trusted proxy appended to
    X-Forwarded-For. Takes a Django or a DRF request; the admin login's lockout uses it too."""
    return BaseThrottle().get_ident(request)


@receiver(setting_changed)
def _reset_local_counters(*, setting: str, **kwargs: object) -> None:
    # The local counters stand in for one shared cache; another cache configuration (tests switch
    # a dead Redis on and off) starts them afresh.
    if setting == "CACHES":
        local_counters.reset()


class _Switchable:
    """``THROTTLE_DISABLED`` turns the throttle off; a shared cache that fails falls back to
    ``local_counters`` with the same rate (the 429 still carries Retry-After)."""

    def allow_request(self, request, view) -> bool:
        if settings.THROTTLE_DISABLED:
            return True
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS:
            # A dead Redis must neither fail every request nor lift the limit (least of all on login).
            local_counters.warn(type(self).__name__)
            self.cache = local_counters.cache
            with local_counters.lock:
                return super().allow_request(request, view)


class AnonBurstThrottle(_Switchable, AnonRateThrottle):
    """General limit for anonymous clients, per IP."""


class UserBurstThrottle(_Switchable, UserRateThrottle):
    """General limit for signed-in users, per user."""


class IPScopeThrottle(_Switchable, SimpleRateThrottle):
    """Per-IP limit for one sensitive endpoint; subclasses set ``scope``."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class EmailScopeThrottle(_Switchable, SimpleRateThrottle):
    """Per-email limit for one sensitive endpoint (whatever the IP); subclasses set ``scope``."""

    def get_cache_key(self, request, view):
        email = request.data.get("email") if isinstance(request.data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None
        return self.cache_format % {"scope": self.scope, "ident": email.strip().lower()[:254]}


def scoped_throttles(name: str) -> list[type]:
    """The per-IP and per-email throttle classes for ``<name>_ip`` and ``<name>_email`` rates."""
    by_ip = type(f"{name.title()}IPThrottle", (IPScopeThrottle,), {"scope": f"{name}_ip"})
    by_email = type(f"{name.title()}EmailThrottle", (EmailScopeThrottle,), {"scope": f"{name}_email"})
    return [by_ip, by_email]
