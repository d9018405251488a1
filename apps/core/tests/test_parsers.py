"""apps.core.parsers: no request body makes a server error."""

import io

import pytest
from rest_framework.exceptions import ParseError
from rest_framework.test import APIClient

from apps.core.parsers import JSONParser

pytestmark = pytest.mark.django_db


def parse(body: bytes):
    return JSONParser().parse(io.BytesIO(body), "application/json", {"encoding": "utf-8"})


def test_ordinary_json_parses():
    assert parse(b'{"email": "ann@example.com", "tags": [[1, 2], [3]]}') == {
        "email": "ann@example.com",
        "tags": [[1, 2], [3]],
    }


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000])
def test_nesting_too_deep_to_decode_is_a_parse_error(body):
    with pytest.raises(ParseError, match="nested too deeply"):
        parse(body)


def test_malformed_json_is_still_a_parse_error():
    with pytest.raises(ParseError, match="JSON parse error"):
        parse(b'{"a": ')


def test_the_api_answers_400_not_500_to_deeply_nested_json():
    client = APIClient(raise_request_exception=False)

    response = client.post("/api/v1/auth/register/", "[" * 100_000 + "]" * 100_000, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - nested too deeply.", "code": "parse_error"}


def test_an_unknown_charset_is_ignored_not_a_server_error():
    client = APIClient(raise_request_exception=False)

    response = client.post("/api/v1/auth/register/", b'{"email": "x"}', content_type="application/json; charset=nope")

    assert response.status_code == 400
    assert list(response.json()) == ["email", "password"]
