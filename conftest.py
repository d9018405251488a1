"""Fixtures shared by every app's tests."""

import os
import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.tests.factories import StoreFactory, UserFactory
from apps.catalog.listing import plans_clear
from apps.catalog.tests.factories import ProductFactory


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    """Every test gets its own media folder, a clean cache (throttle counters live there) and no
    compiled product listing (so a test's query count does not depend on the tests before it)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    plans_clear()
    yield
    cache.clear()


DEAD_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every connection is refused


def redis_caches(url: str, *, prefix: str) -> dict:
    """CACHES for django-redis at ``url``, as settings.py builds them for REDIS_URL."""
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }


@pytest.fixture
def live_redis():
    """The app on a real Redis (REDIS_TEST_URL) under a key prefix of its own; on teardown only
    that prefix's keys are deleted (never the whole database). Skips without REDIS_TEST_URL."""
    url = os.environ.get("REDIS_TEST_URL")
    if not url:
        pytest.skip("needs a Redis server: set REDIS_TEST_URL (e.g. redis://127.0.0.1:6379/12)")
    prefix = f"bazaar-test-{uuid.uuid4().hex}"
    with override_settings(REDIS_URL=url, CACHES=redis_caches(url, prefix=prefix)):
        try:
            yield cache
        finally:
            cache.delete_pattern("*")


@pytest.fixture
def dead_redis():
    """The app configured for a Redis that refuses every connection."""
    with override_settings(REDIS_URL=DEAD_REDIS_URL, CACHES=redis_caches(DEAD_REDIS_URL, prefix="bazaar-test-dead")):
        yield


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``postgres`` when the suite runs on another database, saying why."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (row locks, concurrent connections, full-text search); set DATABASE_URL=postgres://..."
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def queued(monkeypatch):
    """A broker as the task sees it: ``delay`` records the call instead of running the task."""
    calls = []

    def record(task):
        monkeypatch.setattr(task, "delay", lambda **kwargs: calls.append((task.name, kwargs)))
        return calls

    return record


@pytest.fixture
def task_retries(monkeypatch):
    """Record the countdown of every retry ``task`` asks for, letting the retry happen."""

    def spy(task):
        countdowns = []
        original = task.retry

        def retry(*args, **kwargs):
            countdowns.append(kwargs.get("countdown"))
            return original(*args, **kwargs)

        monkeypatch.setattr(task, "retry", retry)
        return countdowns

    return spy


@pytest.fixture
def rates(monkeypatch):
    """Set throttle rates for this test (DRF reads them once, into a class attribute)."""

    def set_rates(**scopes: str) -> None:
        for scope, rate in scopes.items():
            monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)

    return set_rates


@pytest.fixture
def client_for():
    """``client_for(user)``: a new API client that sends a JWT access token for ``user``, as the
    frontend does (each call issues a new token); ``client_for(None)``: a new anonymous client.
    Not named ``client``: that is pytest-django's Django test client, which the admin tests use."""

    def make(user) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        return client

    return make


@pytest.fixture
def api_client(client_for):
    return client_for(None)


@pytest.fixture
def buyer(db):
    """A signed-up user with no store: the shopper, and the plain account that the tests of signing
    in, tokens and passwords use."""
    return UserFactory()


@pytest.fixture
def buyer_client(client_for, buyer):
    return client_for(buyer)


@pytest.fixture
def seller(db):
    """The owner of a store (``seller.store``)."""
    return StoreFactory().owner


@pytest.fixture
def seller_client(client_for, seller):
    return client_for(seller)


@pytest.fixture
def staff(db):
    """A staff user with no store."""
    return UserFactory(is_staff=True)


@pytest.fixture
def staff_client(client_for, staff):
    return client_for(staff)


@pytest.fixture
def mug(db):
    """A product at 12.50 with 5 in stock: two of them make a 25.00 order."""
    return ProductFactory(name="Mug", price=Decimal("12.50"), stock=5)


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"
