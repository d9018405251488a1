"""Service endpoints: /healthz and the JSON error pages (apps/core/apis.py)."""

import os

import pytest
from django.db import OperationalError
from django.test import RequestFactory, override_settings

from apps.core import apis

pytestmark = pytest.mark.django_db

DEAD_REDIS_URL = "redis://127.0.0.1:1/0"


def redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "bazaar-test-healthz",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }


def test_healthz_is_ok_with_the_cache_off_without_redis(api_client, settings):
    settings.REDIS_URL = ""

    response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "off"}
    assert response["Cache-Control"] == "no-store"


def test_healthz_needs_no_authentication_and_ignores_a_broken_token(api_client):
    response = api_client.get("/healthz", HTTP_AUTHORIZATION="Bearer broken")

    assert response.status_code == 200


def test_healthz_with_a_dead_redis_is_degraded_not_failed(api_client, caplog):
    with override_settings(REDIS_URL=DEAD_REDIS_URL, CACHES=redis_cache(DEAD_REDIS_URL)):
        response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "degraded"}
    assert "health check: cache unreachable" in caplog.text


@pytest.mark.redis
def test_healthz_with_a_live_redis_is_ok(api_client):
    url = os.environ.get("REDIS_TEST_URL")
    if not url:
        pytest.skip("needs a Redis server: set REDIS_TEST_URL (e.g. redis://127.0.0.1:6379/15)")

    with override_settings(REDIS_URL=url, CACHES=redis_cache(url)):
        response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_healthz_with_the_database_down_is_503(api_client, monkeypatch, caplog):
    def unreachable(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("django.db.backends.base.base.BaseDatabaseWrapper.cursor", unreachable)

    response = api_client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "down", "cache": "off"}
    assert "health check: database unreachable" in caplog.text


def test_database_status_is_ok_with_a_working_database():
    assert apis.database_status() == "ok"


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/nothing/", "/api/v1/users/me"])
def test_unknown_api_paths_answer_json_404(api_client, path):
    response = api_client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_unknown_api_path_is_json_404_even_with_debug_on(api_client, settings):
    settings.DEBUG = True

    response = api_client.post("/api/v1/nothing-here/", {"a": 1})

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_unknown_pages_outside_the_api_are_html(api_client):
    response = api_client.get("/nothing-here/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_server_errors_on_api_paths_answer_json():
    response = apis.internal_error(RequestFactory().get("/api/v1/stores/"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.content == b'{"detail": "Internal server error.", "code": "server_error"}'


def test_server_errors_elsewhere_answer_html():
    response = apis.internal_error(RequestFactory().get("/somewhere/"))

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_schema_and_docs_answer(api_client):
    schema = api_client.get("/api/schema/")
    docs = api_client.get("/api/docs/")

    assert schema.status_code == 200
    assert schema["Content-Type"].startswith("application/vnd.oai.openapi")
    assert b"/api/v1/auth/token/" in schema.content
    assert docs.status_code == 200
