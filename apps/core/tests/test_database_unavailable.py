"""A database that is down answers 503 database_unavailable with Retry-After, never a 500."""

import json

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client, RequestFactory

from apps.core import apis

pytestmark = pytest.mark.django_db

EXPECTED_BODY = {
    "detail": "The service is temporarily unavailable; try again shortly.",
    "code": "database_unavailable",
}


@pytest.fixture
def take_database_down(monkeypatch):
    """From the call on, every new cursor fails as it would with the server gone."""

    def unreachable(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    return lambda: monkeypatch.setattr("django.db.backends.base.base.BaseDatabaseWrapper.cursor", unreachable)


def assert_database_unavailable(response):
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == EXPECTED_BODY
    assert response["Retry-After"] == "5"


@pytest.mark.parametrize("error", [OperationalError("server closed the connection"), InterfaceError("closed")])
def test_a_selector_failing_on_the_database_answers_503_on_an_api_path(api_client, monkeypatch, caplog, error):
    def failing(**kwargs):
        raise error

    monkeypatch.setattr("apps.catalog.selectors.product_list_public", failing)

    response = api_client.get("/api/v1/products/", HTTP_X_REQUEST_ID="trace-db")

    assert_database_unavailable(response)
    assert response["X-Request-ID"] == "trace-db"
    assert "database unavailable: GET /api/v1/products/" in caplog.text


def test_authentication_failing_on_the_database_answers_503(buyer_client, take_database_down):
    take_database_down()

    response = buyer_client.get("/api/v1/users/me/")

    assert_database_unavailable(response)


def test_a_view_outside_drf_failing_on_the_database_answers_503(staff, take_database_down):
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    take_database_down()

    response = client.get("/admin/")

    assert_database_unavailable(response)


def test_a_database_failure_raised_in_middleware_answers_503_through_handler500():
    request = RequestFactory().get("/admin/")

    try:
        raise OperationalError("the database system is shutting down")
    except OperationalError:
        response = apis.internal_error(request)

    assert_database_unavailable(response)


def test_other_errors_still_answer_500():
    request = RequestFactory().get("/api/v1/products/")

    try:
        raise ValueError("a bug")
    except ValueError:
        response = apis.internal_error(request)

    assert response.status_code == 500


def test_postgresql_connections_fail_fast_and_are_health_checked(settings):
    database = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        pytest.skip("connection options of PostgreSQL")

    assert database["OPTIONS"]["connect_timeout"] == 5
    assert database["CONN_HEALTH_CHECKS"] is True
    assert database["CONN_MAX_AGE"] == 60
