"""Security headers and Cache-Control on private responses (apps/core/middleware.py)."""

import pytest

from apps.catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def test_an_authenticated_response_is_no_store(buyer_client):
    response = buyer_client.get("/api/v1/users/me/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_a_public_list_fetched_anonymously_keeps_its_cacheable_headers(api_client):
    ProductFactory()

    response = api_client.get(PRODUCTS)

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_a_public_list_fetched_with_a_token_is_no_store(buyer_client):
    response = buyer_client.get(PRODUCTS)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_a_request_with_a_broken_authorization_header_is_no_store(api_client):
    response = api_client.get(PRODUCTS, HTTP_AUTHORIZATION="Bearer broken")

    assert response.status_code == 401
    assert response["Cache-Control"] == "no-store"


def test_an_admin_page_with_a_session_is_no_store(client, staff):
    client.force_login(staff)

    response = client.get("/admin/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_security_headers_are_set(api_client):
    response = api_client.get(PRODUCTS)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_plain_http_is_redirected_except_health_and_metrics(api_client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.METRICS_TOKEN = "scrape-token"

    assert api_client.get(PRODUCTS).status_code == 301
    assert api_client.get("/healthz").status_code == 200
    assert api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token").status_code == 200


def test_https_behind_a_proxy_is_recognised_by_its_forwarded_proto(api_client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    response = api_client.get(PRODUCTS, HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 200
