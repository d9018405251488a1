import pytest

pytestmark = pytest.mark.django_db


def preflight(client, origin: str, headers: str):
    return client.options(
        "/api/v1/checkout/",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def test_the_storefront_may_send_idempotency_keys_and_request_ids(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example"]

    response = preflight(client, "https://shop.example", "authorization,content-type,idempotency-key,x-request-id")

    assert response["Access-Control-Allow-Origin"] == "https://shop.example"
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "x-request-id"} <= allowed


def test_unknown_origins_get_no_cors_headers(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example"]
    response = preflight(client, "https://evil.example", "idempotency-key")
    assert "Access-Control-Allow-Origin" not in response
