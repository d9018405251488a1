"""Serializer fields that take JSON input at its word: a value of the wrong JSON type is a 400.

DRF's fields coerce: CharField turns 0 into "0", BooleanField takes "yes", 1 and "on", a
SlugRelatedField takes "" for null. The schema promises a string or a boolean, so anything else
is a client's mistake to be told about, not guessed at.
"""

from __future__ import annotations

import re

from django.db import models
from rest_framework import serializers

# Slugs are made by django.utils.text.slugify: ASCII letters, digits, "-" and "_".
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+\Z")


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


class JSONDecimalField(serializers.DecimalField):
    """Money as API.md writes it, a JSON string (``"19.99"``): DRF's DecimalField would also take
    the numbers 19.99 and 0, and ``""`` for null. Round 2's money inputs use it; round 1's product
    ``price`` keeps DRF's field, so clients that send a number there keep their answer."""

    def validate_empty_values(self, data):
        if data == "":
            self.fail("invalid")
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


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


class JSONModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose text and boolean model fields take only JSON strings and booleans."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: JSONCharField,
        models.TextField: JSONCharField,
        models.BooleanField: JSONBooleanField,
        models.EmailField: JSONEmailField,
    }
