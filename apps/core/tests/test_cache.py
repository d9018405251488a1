"""Versioned caching helpers (apps/core/cache.py) and a cache that is down (throttles, health)."""

import logging

import pytest
from django.conf import settings
from django.core.cache import cache
from django_redis.cache import RedisCache

from apps.accounts.tests.factories import DEFAULT_PASSWORD
from apps.core.cache import (
    VERSION_SECONDS,
    cache_enabled,
    versioned_get_or_set,
    versions_bump,
    versions_bump_on_commit,
    versions_get,
)

pytestmark = pytest.mark.django_db


class Computer:
    """A ``compute`` callable that counts its calls and returns the next value in turn."""

    def __init__(self, *values):
        self.values = list(values)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.values.pop(0)


def get_or_set(compute, *, versions=("v",)):
    return versioned_get_or_set(key="thing", versions=list(versions), compute=compute, timeout=60)


def fresh_client() -> RedisCache:
    """Another process's view of the same Redis: a new client built from the same settings."""
    params = settings.CACHES["default"]
    return RedisCache(params["LOCATION"], params)


# --- With Redis -------------------------------------------------------------------------------


def test_a_second_read_is_a_hit_until_the_version_is_bumped(live_redis):
    compute = Computer({"price": "10.00"}, {"price": "12.00"})

    first, second = get_or_set(compute), get_or_set(compute)
    versions_bump(["v"])
    third = get_or_set(compute)

    assert (first, second, third) == ({"price": "10.00"}, {"price": "10.00"}, {"price": "12.00"})
    assert compute.calls == 2


def test_the_version_lives_in_redis_so_another_process_sees_the_bump(live_redis):
    [before] = versions_get(["v"])

    versions_bump(["v"])

    assert fresh_client().get("v") == before + 1


def test_a_bump_made_by_another_process_retires_this_ones_entries(live_redis):
    compute = Computer("old", "new")
    get_or_set(compute)

    fresh_client().incr("v")

    assert get_or_set(compute) == "new"


def test_a_lost_counter_restarts_above_every_value_it_had(live_redis):
    [before] = versions_get(["v"])
    versions_bump(["v"])
    cache.delete("v")  # evicted by Redis

    [after] = versions_get(["v"])

    assert after > before + 1


def test_a_counter_expires_a_day_after_its_creation_whatever_its_bumps(live_redis):
    versions_get(["v"])
    versions_bump(["v"])

    assert 0 < live_redis.ttl("v") <= VERSION_SECONDS


def test_an_error_while_computing_is_not_cached(live_redis):
    def fail():
        raise ValueError("not found")

    with pytest.raises(ValueError, match="not found"):
        get_or_set(fail)

    assert get_or_set(Computer("found")) == "found"


def test_an_entry_depends_on_every_version_it_names(live_redis):
    compute = Computer("a", "b", "c")
    get_or_set(compute, versions=("global", "item"))

    versions_bump(["item"])
    after_item = get_or_set(compute, versions=("global", "item"))
    versions_bump(["global"])
    after_global = get_or_set(compute, versions=("global", "item"))

    assert (after_item, after_global) == ("b", "c")


def test_a_bump_waits_for_the_commit(live_redis, django_capture_on_commit_callbacks):
    [before] = versions_get(["v"])

    with django_capture_on_commit_callbacks() as callbacks:
        versions_bump_on_commit(["v"])
        assert versions_get(["v"]) == [before]  # not yet: a reader could re-cache the old state

    assert len(callbacks) == 1
    callbacks[0]()
    assert versions_get(["v"]) == [before + 1]


# --- Without Redis ------------------------------------------------------------------------------


def test_without_redis_nothing_is_cached_and_nothing_is_scheduled(settings, django_capture_on_commit_callbacks):
    settings.REDIS_URL = ""
    compute = Computer("a", "b")

    with django_capture_on_commit_callbacks() as callbacks:
        answers = (get_or_set(compute), get_or_set(compute))
        versions_bump_on_commit(["v"])

    assert not cache_enabled()
    assert answers == ("a", "b")
    assert callbacks == []


# --- Redis down ---------------------------------------------------------------------------------


def test_a_dead_redis_computes_every_read_and_logs(dead_redis, caplog):
    compute = Computer("a", "b")

    answers = (get_or_set(compute), get_or_set(compute))

    assert answers == ("a", "b")
    assert "cache unreachable" in caplog.text


def test_a_bump_against_a_dead_redis_is_logged_not_raised(dead_redis, caplog):
    with caplog.at_level(logging.ERROR):
        versions_bump(["v"])

    assert "version v not bumped" in caplog.text


def test_login_works_and_throttles_count_per_process_with_a_dead_redis(dead_redis, api_client, buyer, caplog):
    right = api_client.post("/api/v1/auth/token/", {"email": buyer.email, "password": DEFAULT_PASSWORD})
    wrong = api_client.post("/api/v1/auth/token/", {"email": buyer.email, "password": "wrong-password-1"})

    assert right.status_code == 200
    assert "access" in right.json()
    assert wrong.status_code == 401
    assert "cache unreachable, requests are counted per process" in caplog.text


def test_an_authenticated_request_passes_the_user_throttle_with_a_dead_redis(dead_redis, buyer_client):
    assert buyer_client.get("/api/v1/users/me/").status_code == 200
