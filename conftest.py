"""Fixtures shared by every app's tests."""

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.tests.factories import StoreFactory, UserFactory


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    """Every test gets its own media folder and a clean cache (throttle counters live there)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``postgres`` when the suite runs on another database, saying why."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
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
def api_client():
    return APIClient()


def authenticated_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def buyer_client(user):
    return authenticated_client(user)


@pytest.fixture
def seller(db):
    return StoreFactory().owner


@pytest.fixture
def seller_client(seller):
    return authenticated_client(seller)


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def staff_client(staff):
    return authenticated_client(staff)


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"
