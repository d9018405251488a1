"""What the API answers to bodies it cannot take: too large, malformed, of another media type."""

import json

import pytest

from apps.accounts.models import User

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"


def test_a_json_body_over_the_limit_is_413_json_and_the_view_never_runs(api_client, settings):
    settings.MAX_JSON_BODY_BYTES = 100
    body = json.dumps({"email": "ann@example.com", "password": "plum-orbit-velvet-42", "first_name": "A" * 100})

    response = api_client.post(REGISTER, body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {
        "detail": "Request body is larger than 100 bytes.",
        "code": "request_too_large",
        "limit": 100,
    }
    assert not User.objects.exists()


def test_a_json_body_at_the_limit_passes(api_client, settings):
    body = json.dumps({"email": "ann@example.com", "password": "plum-orbit-velvet-42"})
    settings.MAX_JSON_BODY_BYTES = len(body)

    response = api_client.post(REGISTER, body, content_type="application/json")

    assert response.status_code == 201


def test_the_default_json_limit_is_one_mebibyte(api_client):
    body = json.dumps({"email": "ann@example.com", "padding": "x" * (1024 * 1024)})

    response = api_client.post(REGISTER, body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["limit"] == 1024 * 1024


def test_multipart_bodies_get_the_upload_limit(api_client, settings):
    settings.MAX_JSON_BODY_BYTES = 100
    settings.MAX_UPLOAD_BODY_BYTES = 100_000

    small_upload = api_client.post(REGISTER, {"email": "ann@example.com", "note": "x" * 500}, format="multipart")
    settings.MAX_UPLOAD_BODY_BYTES = 200
    big_upload = api_client.post(REGISTER, {"email": "ann@example.com", "note": "x" * 500}, format="multipart")

    assert small_upload.status_code == 415
    assert big_upload.status_code == 413
    assert big_upload.json()["limit"] == 200


@pytest.mark.parametrize("length", ["abc", "-1", "1e3"])
def test_a_malformed_content_length_is_400_json(api_client, length):
    response = api_client.generic("POST", REGISTER, b"{}", content_type="application/json", CONTENT_LENGTH=length)

    assert response.status_code == 400
    assert response.json() == {"detail": "Malformed Content-Length header.", "code": "bad_request"}


def test_malformed_json_is_400_with_detail_and_code(api_client):
    response = api_client.post(REGISTER, '{"email": "ann@example.com",', content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == "parse_error"
    assert body["detail"].startswith("JSON parse error")
    assert not User.objects.exists()


def test_invalid_utf8_in_a_json_body_is_400_json(api_client):
    response = api_client.post(REGISTER, b'{"email": "\xff\xfe@example.com"}', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not User.objects.exists()


def test_json_nan_is_refused(api_client):
    response = api_client.post(REGISTER, '{"email": NaN}', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("email=ann@example.com&password=plum-orbit-velvet-42", "application/x-www-form-urlencoded"),
        ("email=ann@example.com", "text/plain"),
        ('{"email": "ann@example.com"}', "application/xml"),
    ],
)
def test_a_body_of_another_media_type_is_415_json(api_client, body, content_type):
    response = api_client.post(REGISTER, body, content_type=content_type)

    assert response.status_code == 415
    assert response.json() == {
        "detail": f'Unsupported media type "{content_type}" in request.',
        "code": "unsupported_media_type",
    }
    assert not User.objects.exists()


def test_a_non_object_json_body_is_a_validation_error(api_client):
    response = api_client.post(REGISTER, "[1, 2]", content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_a_method_not_allowed_follows_the_error_shape(buyer_client):
    response = buyer_client.put("/api/v1/users/me/", {"first_name": "X"})

    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "PUT" not allowed.', "code": "method_not_allowed"}


def test_the_api_answers_json_even_when_html_is_asked_for(buyer_client):
    response = buyer_client.get("/api/v1/users/me/", HTTP_ACCEPT="text/html")

    assert response.status_code == 406
    assert response.json() == {"detail": "Could not satisfy the request Accept header.", "code": "not_acceptable"}
