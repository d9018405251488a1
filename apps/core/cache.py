"""Versioned caching of public, shared reads, correct across app servers (docs/operations.md, Caching).

An entry is stored with the values of one or more version counters that live in the cache itself
(Redis) and counts only while they are current. A write bumps its counters after its transaction
commits (``INCR``, atomic in Redis): every app server's next read sees other values, misses and
recomputes; entries stamped with old values are never served again and are overwritten or expire
by their TTL. No process keeps local
state, so a bump made by one server is seen by all at once.

Readers take the versions before they compute, so an answer computed from the state before a
commit can only be stored under a version that the commit's bump retires.

Caching is on only when ``REDIS_URL`` is set. The local-memory cache is one per process: a bump in
one worker would not reach the others, so without Redis every read is computed.

A failing cache (Redis down, a timeout) degrades to computing the answer: every call here catches
the client's errors, logs them and carries on, never failing the request. A bump that fails
leaves entries under the old version in place for at most their TTL: that TTL bounds staleness.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What the cache client raises when Redis is unreachable or fails (django-redis wraps most
# connection errors into ConnectionInterrupted).
CACHE_ERRORS = (ConnectionInterrupted, RedisError, OSError)

# A counter lives this long from its creation (INCR keeps the expiry), then restarts from the
# clock: one key per product ever read does not pile up in Redis forever.
VERSION_SECONDS = 24 * 60 * 60

T = TypeVar("T")


def cache_enabled() -> bool:
    """True when responses are cached: only with Redis, shared by every app server."""
    return bool(settings.REDIS_URL)


def _fresh_version() -> int:
    # A counter that is missing (never set, expired, or evicted by Redis) starts from the clock in
    # microseconds, above any value it held before (no key is bumped a million times a second):
    # entries left under an old value are never read again, even when the counter is lost.
    return time.time_ns() // 1000


def versions_get(names: Sequence[str]) -> list[int] | None:
    """The current value of each counter, creating missing ones; None when the cache fails."""
    try:
        found = cache.get_many(names)
        for name in names:
            if name not in found:
                cache.add(name, _fresh_version(), timeout=VERSION_SECONDS)  # first writer wins
                found[name] = cache.get(name)
    except CACHE_ERRORS:
        logger.warning("cache unreachable: reading %s uncached", names, exc_info=True)
        return None
    if any(found[name] is None for name in names):  # evicted between add and get: do not cache
        return None
    return [int(found[name]) for name in names]


def versions_bump(names: Sequence[str]) -> None:
    """Advance each counter now, so entries keyed by its old value are never read again."""
    if not cache_enabled():
        return
    for name in names:
        try:
            try:
                cache.incr(name)
            except ValueError:  # missing: any fresh value retires what was cached under it
                if not cache.add(name, _fresh_version(), timeout=VERSION_SECONDS):
                    cache.incr(name)
        except CACHE_ERRORS:
            logger.error("cache unreachable: version %s not bumped; stale for at most the TTL", name, exc_info=True)


def versions_bump_on_commit(names: Sequence[str], *, using: str | None = None) -> None:
    """Bump the counters once the current transaction commits (at once outside one), so no
    reader re-caches the old state under a new version between the write and its commit. Nothing
    is scheduled when caching is off."""
    if cache_enabled() and names:
        retired = list(names)
        transaction.on_commit(lambda: versions_bump(retired), using=using, robust=True)


def versioned_get_or_set(*, key: str, versions: Sequence[str], compute: Callable[[], T], timeout: int) -> T:
    """The value cached under ``key`` at the current ``versions``, else ``compute()`` stored there
    for ``timeout`` seconds. An exception from ``compute`` propagates and nothing is stored, so
    errors (404, 400) are never cached. Computes uncached when caching is off or fails.

    One round trip on a hit: the counters and the entry come in one ``MGET``; the entry carries
    the counter values it was computed under and counts only when they are the current ones."""
    if not cache_enabled():
        return compute()
    try:
        found = cache.get_many([*versions, key])
    except CACHE_ERRORS:
        logger.warning("cache unreachable: %s computed uncached", key, exc_info=True)
        return compute()
    if all(name in found for name in versions):
        current = [int(found[name]) for name in versions]
    else:
        current = versions_get(versions)
        if current is None:
            return compute()
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and list(entry[0]) == current:
        return entry[1]
    value = compute()
    try:
        cache.set(key, (tuple(current), value), timeout=timeout)
    except CACHE_ERRORS:
        logger.warning("cache unreachable: %s not stored", key, exc_info=True)
    return value
