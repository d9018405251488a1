"""JSON input is taken at its word: a value of the wrong JSON type is a 400, never coerced
(findings of the schemathesis run, .ci/fuzz)."""

from decimal import Decimal

import pytest
from rest_framework.exceptions import ValidationError

from apps.catalog.tests.factories import CategoryFactory
from apps.core.fields import JSONDecimalField, SlugRefField

pytestmark = pytest.mark.django_db

ADDRESS = {"full_name": "Bea Buyer", "line1": "1 Main St", "city": "Springfield", "country": "US"}


def test_a_number_for_a_string_is_refused(buyer_client):
    response = buyer_client.post("/api/v1/users/me/store/", {"name": "Shop", "description": 0}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["description"]


def test_a_number_for_a_model_serializer_boolean_is_refused(buyer_client):
    response = buyer_client.post("/api/v1/users/me/addresses/", {**ADDRESS, "is_default": 0}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["is_default"]


def test_a_number_for_a_model_serializer_string_is_refused(buyer_client):
    response = buyer_client.post("/api/v1/users/me/addresses/", {**ADDRESS, "city": 12345}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["city"]


@pytest.mark.parametrize("parent", ["", "tools\x00", "not a slug", 7])
def test_a_parent_that_no_slug_can_be_is_refused(staff_client, parent):
    CategoryFactory(name="Tools", slug="tools")

    response = staff_client.post("/api/v1/categories/", {"name": "Saws", "parent": parent}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["parent"]


def test_a_product_category_with_a_nul_character_is_400_not_a_database_error(seller_client):
    CategoryFactory(name="Tools", slug="tools")
    body = {"name": "Saw", "description": "", "price": "9.99", "category": "to\x00ols"}

    response = seller_client.post("/api/v1/products/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["category"]


def test_a_slug_reference_still_finds_its_object_and_takes_null():
    category = CategoryFactory(name="Tools", slug="tools")
    field = SlugRefField(slug_field="slug", queryset=type(category).objects.all(), allow_null=True)

    assert field.run_validation("tools") == category
    assert field.run_validation(None) is None


def test_max_length_counts_the_whitespace_that_is_trimmed(seller_client):
    response = seller_client.patch("/api/v1/users/me/store/", {"description": "x" + "\x1e" * 5000}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["description"]


@pytest.mark.parametrize("value", [0, 9.5, "", True])
def test_money_in_round_2_inputs_is_a_json_string(value):
    field = JSONDecimalField(max_digits=12, decimal_places=2, allow_null=True)

    with pytest.raises(ValidationError):
        field.run_validation(value)
    assert field.run_validation("9.50") == Decimal("9.50")
    assert field.run_validation(None) is None


@pytest.mark.parametrize("value", ["1e2", "1E2", " 5", "5 ", "+5", "01.50", "1_000", "5.", ".5", "-0", "-0.00"])
def test_money_strings_are_in_plain_notation(value):
    field = JSONDecimalField(max_digits=12, decimal_places=2, min_value=0, max_value=Decimal("1000000"))

    with pytest.raises(ValidationError) as error:
        field.run_validation(value)
    assert error.value.detail == ['Write the amount as digits with at most 2 decimals after a point, e.g. "19.99".']


def test_a_money_field_names_the_string_it_wants_for_a_number():
    field = JSONDecimalField(max_digits=12, decimal_places=2)

    with pytest.raises(ValidationError) as error:
        field.run_validation(19.99)
    assert error.value.detail == ['Send the amount as a JSON string, e.g. "19.99".']


def test_round_one_product_price_still_takes_a_number_but_not_an_exponent(seller_client):
    category = CategoryFactory()
    body = {"name": "Lamp", "category": category.slug}

    assert seller_client.post("/api/v1/products/", {**body, "price": 19.5}, format="json").status_code == 201
    response = seller_client.post("/api/v1/products/", {**body, "price": "1e2"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["price"]
