"""Cache-backed throttles. Counters live in the default cache (Redis when REDIS_URL is set), so a
limit holds across app servers; while that cache is unreachable, requests pass (logged) instead
of failing. The client address is DRF's ``get_ident``, which honours ``NUM_PROXIES``: with no
trusted proxy a client-supplied X-Forwarded-For is ignored.
"""

from __future__ import annotations

import logging

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from apps.core.cache import CACHE_ERRORS

logger = logging.getLogger(__name__)


class _Switchable:
    def allow_request(self, request, view):
        if settings.THROTTLE_DISABLED:
            return True
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS:
            # A dead Redis must not fail every request: the limit is off until it is back.
            logger.warning("throttle %s: cache unreachable, request allowed", type(self).__name__, exc_info=True)
            return True


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
