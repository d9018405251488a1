"""Service endpoints: /healthz and the JSON error pages (apps/core/apis.py)."""

import os
from types import SimpleNamespace

import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory, override_settings

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


@pytest.fixture(autouse=True)
def _no_broker(settings):
    """The broker is off unless a test names one (CI may run with CELERY_BROKER_URL or REDIS_URL set)."""
    settings.HEALTH_BROKER_URL = ""


def test_healthz_is_ok_with_the_cache_and_broker_off_without_redis(api_client, settings):
    settings.REDIS_URL = ""

    response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "replica": "off", "cache": "off", "broker": "off"}
    assert response["Cache-Control"] == "no-store"


def test_healthz_needs_no_authentication_and_ignores_a_broken_token(api_client):
    response = api_client.get("/healthz", HTTP_AUTHORIZATION="Bearer broken")

    assert response.status_code == 200


def test_healthz_with_a_dead_redis_is_degraded_not_failed(api_client, caplog):
    with override_settings(REDIS_URL=DEAD_REDIS_URL, CACHES=redis_cache(DEAD_REDIS_URL)):
        response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "replica": "off",
        "cache": "degraded",
        "broker": "off",
    }
    assert "health check: cache unreachable" in caplog.text


@pytest.mark.redis
def test_healthz_with_a_live_redis_is_ok(api_client):
    url = os.environ.get("REDIS_TEST_URL")
    if not url:
        pytest.skip("needs a Redis server: set REDIS_TEST_URL (e.g. redis://127.0.0.1:6379/15)")

    with override_settings(REDIS_URL=url, CACHES=redis_cache(url), HEALTH_BROKER_URL=url):
        response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "replica": "off", "cache": "ok", "broker": "ok"}


def test_healthz_with_a_dead_broker_is_degraded_not_failed(api_client, settings, caplog):
    settings.HEALTH_BROKER_URL = DEAD_REDIS_URL

    response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "replica": "off",
        "cache": "off",
        "broker": "degraded",
    }
    assert "health check: broker unreachable" in caplog.text


def test_healthz_pings_a_broker_that_is_not_redis_through_kombu(api_client, settings):
    settings.HEALTH_BROKER_URL = "memory://"

    assert api_client.get("/healthz").json()["broker"] == "ok"


def test_healthz_reports_a_dead_non_redis_broker_as_degraded(api_client, settings):
    settings.HEALTH_BROKER_URL = "amqp://guest@127.0.0.1:1//"

    assert api_client.get("/healthz").json()["broker"] == "degraded"


@pytest.mark.redis
def test_healthz_pings_the_redis_broker(api_client, settings):
    url = os.environ.get("REDIS_TEST_URL")
    if not url:
        pytest.skip("needs a Redis server: set REDIS_TEST_URL (e.g. redis://127.0.0.1:6379/15)")
    settings.HEALTH_BROKER_URL = url

    assert api_client.get("/healthz").json()["broker"] == "ok"


def test_healthz_with_a_dead_replica_is_degraded_not_failed(api_client, monkeypatch, caplog):
    def unreachable():
        raise OperationalError("connection to server at replica.internal failed")

    monkeypatch.setattr(apis, "connections", {"replica": SimpleNamespace(cursor=unreachable)})

    response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "replica": "degraded",
        "cache": "off",
        "broker": "off",
    }
    assert "health check: replica unreachable" in caplog.text


def test_healthz_with_the_database_down_is_503(api_client, monkeypatch, caplog):
    def unreachable(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("django.db.backends.base.base.BaseDatabaseWrapper.cursor", unreachable)

    response = api_client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "down", "replica": "off", "cache": "off", "broker": "off"}
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


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_a_write_to_an_unknown_api_path_is_404_not_a_csrf_403(method):
    # A path that does not match a route (/api/v1/products/{not a slug}/) reaches no API view.
    client = Client(enforce_csrf_checks=True)

    response = client.generic(method, "/api/v1/products/not%20a%20slug/", "{}", content_type="application/json")

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


# --- /metrics --------------------------------------------------------------------------------

METRICS_TOKEN = "scrape-token-0123456789"


def test_metrics_do_not_exist_without_a_token_configured(api_client, settings):
    settings.METRICS_TOKEN = ""

    response = api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything")

    assert response.status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token", f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x"],
)
def test_metrics_without_the_right_token_are_401(api_client, settings, authorization):
    settings.METRICS_TOKEN = METRICS_TOKEN
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}

    response = api_client.get("/metrics", **headers)

    assert response.status_code == 401
    assert response.json() == {"detail": "A valid metrics token is required.", "code": "not_authenticated"}
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'


def test_metrics_with_the_token_export_request_and_database_metrics(api_client, settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    api_client.get("/api/v1/stores/")

    response = api_client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert "django_http_requests_total_by_method_total" in body
    assert "django_http_responses_total_by_status_total" in body
    assert 'latency_seconds_by_view_method_bucket{le="0.01",method="GET",view="store-list"}' in body


def test_metrics_compare_the_token_in_constant_time(api_client, settings, monkeypatch):
    settings.METRICS_TOKEN = METRICS_TOKEN
    compared = []
    monkeypatch.setattr(apis.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or a == b)

    api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer guess")

    assert compared == [(b"guess", METRICS_TOKEN.encode())]


def test_metrics_refuse_writes(api_client, settings):
    settings.METRICS_TOKEN = METRICS_TOKEN

    response = api_client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")

    assert response.status_code == 405


def test_schema_and_docs_answer(api_client):
    schema = api_client.get("/api/schema/")
    docs = api_client.get("/api/docs/")

    assert schema.status_code == 200
    assert schema["Content-Type"].startswith("application/vnd.oai.openapi")
    assert b"/api/v1/auth/token/" in schema.content
    assert docs.status_code == 200
