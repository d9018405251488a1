"""Serializer fields that take JSON input at its word: a value of the wrong JSON type is a 400.

DRF's fields coerce: CharField turns 0 into "0", BooleanField takes "yes", 1 and "on", a
SlugRelatedField takes "" for null. The schema promises a string or a boolean, so anything else
is a client's mistake to be told about, not guessed at.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache

from django.core.validators import RegexValidator
from django.db import models
from django_countries import countries
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

# Slugs are made by django.utils.text.slugify: ASCII letters, digits, "-" and "_".
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+\Z")
SLUG_PATTERN = "^[-a-zA-Z0-9_]+$"
# Every DRF CharField refuses NUL characters (ProhibitNullCharactersValidator); a field that trims
# whitespace and may not be blank needs one character that is neither (Python's ``\s`` is what
# str.strip() removes).
NO_NUL_PATTERN = "^[^\\u0000]*$"
NOT_BLANK_PATTERN = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
# An amount as a string: digits without a leading zero, and at most ``places`` decimals after a point.
MONEY_RE = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


@cache
def country_code_pattern() -> str:
    """Exactly the ISO 3166-1 alpha-2 codes django-countries knows, in any letter case (called when
    the schema is made: the country names need the translation machinery)."""
    seconds: dict[str, str] = {}
    for code in sorted(code for code, _name in countries):
        seconds[code[0]] = seconds.get(code[0], "") + code[1]
    alternatives = [f"[{a}{a.lower()}][{b}{b.lower()}]" for a, b in sorted(seconds.items())]
    return "^(?:" + "|".join(alternatives) + ")$"


def country_request_schema() -> dict[str, str]:
    """A country code in a request body, as the schema states it (any letter case)."""
    return {
        "type": "string",
        "pattern": country_code_pattern(),
        "description": "An ISO 3166-1 alpha-2 code, any letter case (answered upper case).",
    }


def money_pattern(*, min_value, max_value, decimal_places: int) -> str:
    """The amounts a money field takes, as a regular expression: the syntax (``MONEY_RE`` with at most
    ``decimal_places`` decimals) and, for the bounds this API uses (at least 0 or the smallest positive
    amount, at most a power of ten), the range too."""
    places = decimal_places
    fraction = rf"(?:\.\d{{1,{places}}})?"
    syntax = rf"^(?:0|[1-9]\d*){fraction}$"
    if max_value is None or min_value is None:
        return syntax
    top, bottom = Decimal(max_value), Decimal(min_value)
    digits = len(str(int(top))) - 1
    if digits < 1 or top != 10**digits:
        return syntax
    exact_top = "1" + "0" * digits + rf"(?:\.0{{1,{places}}})?"
    below_top = rf"[1-9]\d{{0,{digits - 1}}}{fraction}"
    if bottom == 0:
        return rf"^(?:0{fraction}|{below_top}|{exact_top})$"
    if bottom == Decimal(1).scaleb(-places):
        small = "|".join("0" * zeros + rf"[1-9]\d{{0,{places - 1 - zeros}}}" for zeros in range(places))
        return rf"^(?:0\.(?:{small})|{below_top}|{exact_top})$"
    return syntax


class JSONBooleanField(serializers.BooleanField):
    """Only JSON ``true``/``false``: DRF's BooleanField would also take "yes", "on", "1" and 1."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class JSONCharField(serializers.CharField):
    """Only a JSON string: DRF's CharField would also take 0 or 1.5 (as "0", "1.5")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        # The schema's maxLength counts what was sent, before whitespace is trimmed.
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class MoneyField(serializers.DecimalField):
    """An amount: a string in plain decimal notation (``"19.99"``: no sign, exponent, leading zero,
    whitespace or ``_``, which Python's Decimal would all take), or, as round 1's product ``price``
    took it, a JSON number. The schema gives the exact pattern (apps.core.fields.money_pattern)."""

    accepts_numbers = True
    default_error_messages = {
        "not_a_string": 'Send the amount as a JSON string, e.g. "19.99".',
        "not_plain": 'Write the amount as digits with at most {places} decimals after a point, e.g. "19.99".',
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            if not self.accepts_numbers or isinstance(data, bool):
                self.fail("not_a_string")
            return super().to_internal_value(data)
        value = super().to_internal_value(data)
        # A negative amount is left to min_value's message; "-0" is not an amount anyone writes.
        if not MONEY_RE.fullmatch(data) and not (data.startswith("-") and value < 0):
            self.fail("not_plain", places=self.decimal_places)
        return value


class JSONDecimalField(MoneyField):
    """Money as API.md writes it, a JSON string (``"19.99"``) only: DRF's DecimalField would also
    take the numbers 19.99 and 0, and ``""`` for null. Round 2's money inputs use it; round 1's
    product ``price`` is a MoneyField, so clients that send a number there keep their answer."""

    accepts_numbers = False

    def validate_empty_values(self, data):
        if data == "":
            self.fail("invalid")
        return super().validate_empty_values(data)


class JSONEmailField(serializers.EmailField):
    """Only a JSON string, as JSONCharField."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class SlugRefField(serializers.SlugRelatedField):
    """A reference to an object by its slug: a string that looks like a slug, or the object is
    not found. Never "" for null (DRF's related fields take it so) and never a query for a value
    no slug can be (PostgreSQL refuses NUL characters with an error, not a miss)."""

    def run_validation(self, data=serializers.empty):
        if data == "":
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().run_validation(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if not SLUG_RE.match(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


class CountryTextField(JSONCharField):
    """A country code as plain text (its serializer checks and upper-cases it); the schema gives the
    exact pattern of the codes (CountryTextFieldExtension)."""


class JSONModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose text and boolean model fields take only JSON strings and booleans."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: JSONCharField,
        models.TextField: JSONCharField,
        models.BooleanField: JSONBooleanField,
        models.EmailField: JSONEmailField,
    }


# --- How these fields appear in the OpenAPI schema ------------------------------------------------
# drf-spectacular finds these extensions when this module is imported (every serializer module does).


def text_pattern(field: serializers.CharField) -> str | None:
    """What a text field that may not be blank takes that minLength/maxLength cannot say: no NUL
    character, and (when it trims whitespace) one character that trimming keeps. None for a field
    that may be blank (drf-spectacular would wrap a pattern in a oneOf with "") or that has a
    pattern of its own (a RegexValidator, which the schema shows instead)."""
    if field.allow_blank or any(isinstance(v, RegexValidator) for v in field.validators):
        return None
    return NOT_BLANK_PATTERN if field.trim_whitespace else NO_NUL_PATTERN


class JSONCharFieldExtension(OpenApiSerializerFieldExtension):
    target_class = JSONCharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        pattern = text_pattern(self.target)
        if direction == "request" and pattern and schema.get("type") == "string" and "pattern" not in schema:
            schema["pattern"] = pattern
        return schema


class MoneyFieldExtension(OpenApiSerializerFieldExtension):
    target_class = MoneyField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        text = {
            "type": "string",
            "format": "decimal",
            "pattern": money_pattern(
                min_value=field.min_value, max_value=field.max_value, decimal_places=field.decimal_places
            ),
        }
        if not field.accepts_numbers:
            return text
        number: dict = {"type": "number"}
        if field.min_value is not None:
            number["minimum"] = float(field.min_value)
        if field.max_value is not None:
            number["maximum"] = float(field.max_value)
        return {"anyOf": [text, number]}


class ListSerializerExtension(OpenApiSerializerFieldExtension):
    """``Serializer(many=True, min_length=..., max_length=...)`` and ``allow_empty=False``: drf-spectacular
    leaves these bounds out of the array."""

    target_class = serializers.ListSerializer
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema = auto_schema._map_serializer_field(field, direction, bypass_extensions=True)
        if direction == "request" and schema.get("type") == "array":
            minimum = field.min_length if field.min_length is not None else (0 if field.allow_empty else 1)
            if minimum:
                schema["minItems"] = minimum
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        return schema


class SlugRefFieldExtension(OpenApiSerializerFieldExtension):
    target_class = SlugRefField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request" and schema.get("type") == "string":
            schema["pattern"] = SLUG_PATTERN
        return schema


class CountryTextFieldExtension(OpenApiSerializerFieldExtension):
    target_class = CountryTextField
    priority = 1  # before JSONCharFieldExtension, which matches it too

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return country_request_schema()
        return {"type": "string"}
