"""The schema says what the validators take: every length, pattern, range, enum and required field
of the input serializers appears in /api/schema/, and where a pattern stands for a validator the
two accept the same values (generated clients and Schemathesis build their data from the schema)."""

from __future__ import annotations

import importlib
import inspect
import itertools
import re
import string

import pytest
import yaml
from django.core.management import call_command
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from apps.accounts.serializers import AddressSerializer, CountryCodeField, RegisterInputSerializer
from apps.catalog.serializers import VariantCreateInputSerializer
from apps.core.fields import JSONCharField, JSONDecimalField, MoneyField, country_code_pattern, text_pattern
from apps.core.idempotency import KEY_RE, MAX_KEY_LENGTH
from apps.orders.serializers import ShippingAddressSerializer
from apps.shipping.serializers import ShippingRateInputSerializer

pytestmark = pytest.mark.django_db

SERIALIZER_MODULES = [
    "apps.accounts.serializers",
    "apps.cart.serializers",
    "apps.catalog.serializers",
    "apps.orders.serializers",
    "apps.payouts.serializers",
    "apps.returns.refund_serializers",
    "apps.returns.return_serializers",
    "apps.shipping.serializers",
]


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def component(schema, name):
    return schema["components"]["schemas"][name]


def prop(schema, name, field):
    """A property of a request component, with a $ref/allOf followed and spectacular's
    ``oneOf: [..., {maxLength: 0}]`` (a field that may be blank) unwrapped."""
    value = component(schema, name)["properties"][field]
    return resolve(schema, value)


def resolve(schema, value):
    if "$ref" in value:
        return resolve(schema, component(schema, value["$ref"].rsplit("/", 1)[1]))
    if "allOf" in value:
        return resolve(schema, value["allOf"][0])
    if "oneOf" in value and value["oneOf"][-1] == {"type": "string", "maxLength": 0}:
        return {**value, **resolve(schema, value["oneOf"][0])}
    return value


def operation(schema, path, method):
    return schema["paths"][path][method]


def parameter(schema, path, method, name):
    (found,) = [p for p in operation(schema, path, method)["parameters"] if p["name"] == name]
    return found


def matches(pattern: str, value: str) -> bool:
    return re.search(pattern, value) is not None


def accepts(field, value) -> bool:
    try:
        field.run_validation(value)
    except ValidationError:
        return False
    return True


# --- The operations Schemathesis reported ("schema validation mismatch") ----------------------


def test_register_password_carries_the_password_rules(schema):
    password = prop(schema, "RegisterInputRequest", "password")

    assert password["minLength"] == 10  # AUTH_PASSWORD_VALIDATORS' MinimumLengthValidator
    assert password["maxLength"] == 128
    assert not matches(password["pattern"], "0123456789")  # NumericPasswordValidator
    assert not matches(password["pattern"], "abc\x00defghij")
    assert matches(password["pattern"], "correct horse 42")
    for name in ("PasswordChangeInputRequest", "PasswordResetConfirmInputRequest"):
        new_password = prop(schema, name, "new_password")
        assert (new_password["minLength"], new_password["pattern"]) == (10, password["pattern"]), name


def test_a_new_password_of_only_digits_or_too_short_is_refused_by_the_service(client):
    for password in ("0123456789012", "Sh0rt!"):
        response = client.post(
            "/api/v1/auth/register/", {"email": "a@example.com", "password": password}, content_type="application/json"
        )
        assert response.status_code == 400
        assert "password" in response.json()


def test_text_that_may_not_be_blank_needs_a_character_trimming_keeps_and_no_nul(schema):
    reason = prop(schema, "ReturnInputRequest", "reason")

    assert reason["minLength"] == 1
    assert reason["maxLength"] == 500
    assert matches(reason["pattern"], " broken ")
    assert not matches(reason["pattern"], "   ")
    assert not matches(reason["pattern"], "bro\x00ken")


def test_text_patterns_accept_what_the_field_accepts():
    field = JSONCharField(max_length=20)
    pattern = text_pattern(field)
    for value in ["x", " x ", "   ", "", "a\x00", "\t\n", "\u00a0", "é"]:
        assert matches(pattern, value) == accepts(field, value), repr(value)


def test_money_patterns_are_exactly_what_the_fields_take(schema):
    variant_price = prop(schema, "VariantCreateInputRequest", "price")["pattern"]
    rate_price = prop(schema, "ShippingRateInputRequest", "price")["pattern"]
    samples = [
        "0", "0.0", "0.00", "0.01", "0.1", "0.10", "0.001", "1", "1.", ".5", "1.5", "19.99", "19.999", "01.50",
        "-1", "-0", "-0.00", "+1", "1e2", "1E2", " 5", "5 ", "1_000", "NaN", "Infinity", "",
        "999999.99", "1000000", "1000000.0", "1000000.00", "1000000.01", "1000001", "9999999",
    ]  # fmt: skip
    variant_field = VariantCreateInputSerializer().fields["price"]
    rate_field = ShippingRateInputSerializer().fields["price"]
    for value in samples:
        assert matches(variant_price, value) == accepts(variant_field, value), value
        assert matches(rate_price, value) == accepts(rate_field, value), value
    assert isinstance(variant_field, JSONDecimalField)
    assert not accepts(variant_field, 19.99)


def test_round_one_product_price_takes_a_string_or_a_number(schema):
    price = prop(schema, "ProductCreateSimpleInputRequest", "price")
    text, number = price["anyOf"]

    assert text["type"] == "string"
    assert matches(text["pattern"], "19.99")
    assert not matches(text["pattern"], "0")
    assert number == {"type": "number", "minimum": 0.01, "maximum": 1000000.0}


def test_country_patterns_are_exactly_the_codes_taken_in_any_case(schema):
    address = prop(schema, "AddressRequest", "country")["pattern"]
    checkout = prop(schema, "ShippingAddressRequest", "country")["pattern"]
    rates = prop(schema, "ShippingRateInputRequest", "countries")["items"]["pattern"]
    query = parameter(schema, "/api/v1/cart/shipping-options/", "get", "country")["schema"]["pattern"]
    assert address == checkout == rates == query

    address_field = AddressSerializer().fields["country"]
    checkout_serializer = ShippingAddressSerializer
    base = {"full_name": "A", "line1": "B", "city": "C"}
    letters = string.ascii_uppercase
    for a, b in itertools.product(letters, letters):
        for code in (a + b, (a + b).lower(), a + b.lower()):
            assert matches(address, code) == accepts(address_field, code), code
        assert matches(checkout, a + b) == checkout_serializer(data={**base, "country": a + b}).is_valid(), a + b
    for other in ("", "D", "DEU", "276", "de ", "Germany"):
        assert not matches(address, other)
        assert not accepts(address_field, other)
    # Answers keep the enum of upper-case codes.
    assert component(schema, "Address")["properties"]["country"]["$ref"].endswith("/CountryEnum")


def test_idempotency_key_header_is_described_as_checked(schema):
    for path in ("/api/v1/checkout/", "/api/v1/orders/{number}/pay/", "/api/v1/seller/orders/{number}/refunds/"):
        header = parameter(schema, path, "post", "Idempotency-Key")["schema"]
        assert header["maxLength"] == MAX_KEY_LENGTH
        assert header["minLength"] == 1
        for key in ["k", "order 42", " k", "   ", "", "k\x7f", "clé", "k\t1", "~" * 3]:
            assert matches(header["pattern"], key) == bool(KEY_RE.match(key)), repr(key)


def test_refund_store_query_is_a_slug(schema):
    store = parameter(schema, "/api/v1/seller/orders/{number}/refunds/", "get", "store")["schema"]

    assert matches(store["pattern"], "turing-books_2")
    assert not matches(store["pattern"], "")
    assert not matches(store["pattern"], "no/slug")


def test_cart_item_patch_requires_the_quantity(schema):
    patch = operation(schema, "/api/v1/cart/items/{item_id}/", "patch")

    assert patch["requestBody"]["required"] is True
    body = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert component(schema, body)["required"] == ["quantity"]


def test_return_lines_are_one_to_max_lines(schema):
    lines = prop(schema, "ReturnInputRequest", "lines")

    assert (lines["minItems"], lines["maxItems"]) == (1, 100)
    assert prop(schema, "RefundInputRequest", "lines")["maxItems"] == 100


def test_checkout_takes_exactly_one_of_an_address_and_an_address_id(schema):
    body = operation(schema, "/api/v1/checkout/", "post")["requestBody"]["content"]["application/json"]["schema"]
    shapes = [
        component(schema, ref["$ref"].rsplit("/", 1)[1]) for ref in component(schema, "CheckoutInputRequest")["oneOf"]
    ]

    assert body["$ref"].endswith("/CheckoutInputRequest")
    assert operation(schema, "/api/v1/checkout/", "post")["requestBody"]["required"] is True
    assert [shape["required"] for shape in shapes] == [["shipping_address"], ["address_id"]]
    assert all({"payment_method", "shipping_rates"} <= set(shape["properties"]) for shape in shapes)


def test_register_email_and_names(schema):
    register = component(schema, "RegisterInputRequest")

    assert register["required"] == ["email", "password"]
    assert register["properties"]["email"]["format"] == "email"
    assert RegisterInputSerializer().fields["email"].max_length == register["properties"]["email"]["maxLength"]


# --- Every input serializer's constraints are in the schema ------------------------------------


def input_serializers():
    for module_name in SERIALIZER_MODULES:
        module = importlib.import_module(module_name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module_name or not issubclass(cls, serializers.Serializer) or name.startswith("_"):
                continue
            yield cls


def request_components(schema, cls):
    base = cls.__name__.removesuffix("Serializer")
    names = [f"{base}Request", f"Patched{base}Request"]
    # CheckoutInputRequest is the oneOf of two shapes (CheckoutTo...InputRequest), checked above.
    return [name for name in names if "properties" in schema["components"]["schemas"].get(name, {})]


def test_every_input_field_constraint_is_in_the_schema(schema):
    checked = 0
    for cls in input_serializers():
        try:
            instance = cls()
        except TypeError:
            continue
        for name in request_components(schema, cls):
            properties = component(schema, name)["properties"]
            for field_name, field in instance.fields.items():
                if field.read_only or field_name not in properties:
                    continue
                value = resolve(schema, properties[field_name])
                where = f"{name}.{field_name}"
                if isinstance(field, serializers.CharField):
                    if field.max_length is not None:
                        assert value["maxLength"] == field.max_length, where
                    if field.min_length is not None:
                        assert value["minLength"] >= field.min_length, where
                    if not field.allow_blank and not name.startswith("Patched"):
                        assert value.get("minLength", 0) >= 1, where
                    checked += 1
                elif isinstance(field, serializers.IntegerField):
                    if field.min_value is not None:
                        assert value["minimum"] == field.min_value, where
                    if field.max_value is not None:
                        assert value["maximum"] == field.max_value, where
                    checked += 1
                elif isinstance(field, MoneyField):
                    text = value["anyOf"][0] if "anyOf" in value else value
                    assert not matches(text["pattern"], "1e2"), where
                    assert not matches(text["pattern"], "-1"), where
                    checked += 1
                elif isinstance(field, CountryCodeField):  # a ChoiceField whose codes are taken in any case
                    assert value["pattern"] == country_code_pattern(), where
                    checked += 1
                elif isinstance(field, serializers.ChoiceField):
                    assert set(value["enum"]) - {None, ""} == {str(choice) for choice in field.choices}, where
                    checked += 1
                elif isinstance(field, (serializers.ListField, serializers.ListSerializer)):
                    if field.max_length is not None:
                        assert value["maxItems"] == field.max_length, where
                    if getattr(field, "min_length", None):
                        assert value["minItems"] == field.min_length, where
                    checked += 1
            required = set(component(schema, name).get("required", []))
            if not name.startswith("Patched"):
                expected = {f for f, field in instance.fields.items() if field.required and not field.read_only}
                assert expected <= required | {f for f in expected if f not in properties}, name
    assert checked > 100  # the walk found the fields (a renamed component would silently skip them)


def test_a_new_product_is_one_of_two_forms_never_both(schema):
    body = operation(schema, "/api/v1/products/", "post")["requestBody"]
    shapes = {
        ref["$ref"].rsplit("/", 1)[1]: component(schema, ref["$ref"].rsplit("/", 1)[1])
        for ref in component(schema, "ProductCreateInputRequest")["oneOf"]
    }

    assert body["required"] is True
    simple, variants = shapes["ProductCreateSimpleInputRequest"], shapes["ProductCreateWithVariantsInputRequest"]
    assert simple["required"] == ["category", "name", "price"]
    assert simple["not"] == {"anyOf": [{"required": ["options"]}, {"required": ["variants"]}]}
    assert variants["required"] == ["category", "name", "variants"]
    assert variants["not"] == {"anyOf": [{"required": ["price"]}, {"required": ["stock"]}]}
