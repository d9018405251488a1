"""The OpenAPI schema validates and documents the shared error responses."""

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory, django_db_blocker):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return path


def test_the_schema_validates_without_warnings(schema_file):
    schema = yaml.safe_load(schema_file.read_text())

    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Bazaar API"


def test_every_operation_documents_the_error_shape(schema_file):
    schema = yaml.safe_load(schema_file.read_text())

    assert schema["components"]["schemas"]["Error"]["required"] == ["detail", "code"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            assert {"400", "401", "404", "429", "503"} <= set(operation["responses"]), (method, path)
            if method in {"post", "put", "patch"}:
                assert {"413", "415"} <= set(operation["responses"]), (method, path)


def test_the_contract_paths_are_described(schema_file):
    paths = yaml.safe_load(schema_file.read_text())["paths"]

    for path in (
        "/api/v1/auth/register/",
        "/api/v1/auth/token/",
        "/api/v1/auth/token/refresh/",
        "/api/v1/auth/logout/",
        "/api/v1/auth/password-reset/",
        "/api/v1/auth/password-reset/confirm/",
        "/api/v1/users/me/",
        "/api/v1/users/me/password/",
        "/api/v1/users/me/addresses/",
        "/api/v1/users/me/addresses/{address_id}/",
        "/api/v1/users/me/store/",
        "/api/v1/stores/",
        "/api/v1/stores/{slug}/",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/users/me/"]) >= {"get", "patch", "delete"}
    assert "201" in paths["/api/v1/auth/register/"]["post"]["responses"]
    assert "202" in paths["/api/v1/auth/password-reset/"]["post"]["responses"]


def test_the_schema_endpoint_answers(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert "/api/v1/users/me/" in response.json()["paths"]


def test_a_view_declared_error_gets_the_error_body_and_keeps_its_description(schema_file):
    paths = yaml.safe_load(schema_file.read_text())["paths"]

    for path in ("/api/v1/orders/{number}/cancel/", "/api/v1/orders/{number}/pay/", "/api/v1/users/me/store/"):
        conflict = paths[path]["post"]["responses"]["409"]
        assert conflict["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, path
        assert conflict["description"] != "Conflict with the current state.", path
    # gunicorn answers 414 for a request line too long, before the app.
    assert "414" in paths["/api/v1/products/"]["get"]["responses"]


def test_category_reads_are_documented_as_open_to_anyone(schema_file):
    paths = yaml.safe_load(schema_file.read_text())["paths"]

    assert {} in paths["/api/v1/categories/"]["get"]["security"]
    assert {} in paths["/api/v1/categories/{slug}/"]["get"]["security"]
