"""Input and output shapes of the accounts API (names are unique: they become schema components)."""

from __future__ import annotations

from django.conf.locale import LANG_INFO
from django.contrib.auth import password_validation
from django_countries.serializer_fields import CountryField
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from apps.accounts.models import Address, Store, User, phone_validator
from apps.accounts.selectors import store_commission_rate
from apps.core.fields import (
    JSONBooleanField,
    JSONCharField,
    JSONEmailField,
    JSONModelSerializer,
    country_request_schema,
)

LANGUAGE_CODES = sorted(code for code, info in LANG_INFO.items() if "name" in info)


class NewPasswordField(serializers.Field):
    """A password being set: a JSON string of at most 128 characters, without NUL, taken as sent.
    The service checks it with AUTH_PASSWORD_VALIDATORS (so "" is "too short" there too); the schema
    says what of those rules a schema can (new_password_schema): the minimum length, not only digits.
    Not a JSONCharField(allow_blank=True): drf-spectacular would wrap its schema in a oneOf with ""."""

    MAX_LENGTH = 128
    default_error_messages = {
        "invalid": "Not a valid string.",
        "max_length": "Ensure this field has no more than {max_length} characters.",
        "null_characters_not_allowed": "Null characters are not allowed.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if len(data) > self.MAX_LENGTH:
            self.fail("max_length", max_length=self.MAX_LENGTH)
        if "\x00" in data:
            self.fail("null_characters_not_allowed")
        return data

    def to_representation(self, value):
        return value


def new_password_schema() -> dict:
    validators = password_validation.get_default_password_validators()
    min_length = max(
        [1] + [v.min_length for v in validators if isinstance(v, password_validation.MinimumLengthValidator)]
    )
    numeric = any(isinstance(v, password_validation.NumericPasswordValidator) for v in validators)
    # No NUL character (every text field), and, when numeric passwords are refused, one non-digit.
    pattern = "^[^\\u0000]*[^\\u0000\\d][^\\u0000]*$" if numeric else "^[^\\u0000]*$"
    rules = " ".join(password_validation.password_validators_help_texts())
    return {
        "type": "string",
        "minLength": min_length,
        "maxLength": NewPasswordField.MAX_LENGTH,
        "pattern": pattern,
        "description": f"Checked against the password rules: {rules}",
    }


class NewPasswordFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NewPasswordField

    def map_serializer_field(self, auto_schema, direction):
        return new_password_schema()


class RegisterInputSerializer(serializers.Serializer):
    email = JSONEmailField(max_length=254)
    password = NewPasswordField(write_only=True)
    first_name = JSONCharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = JSONCharField(max_length=150, required=False, allow_blank=True, default="")


class TokenPairOutputSerializer(serializers.Serializer):
    access = JSONCharField()
    refresh = JSONCharField()


class LoginInputSerializer(serializers.Serializer):
    email = JSONEmailField(max_length=254)
    password = JSONCharField(max_length=128, trim_whitespace=False)


class RefreshInputSerializer(serializers.Serializer):
    refresh = JSONCharField(max_length=4096)


class PasswordResetInputSerializer(serializers.Serializer):
    email = JSONEmailField(max_length=254)


class PasswordResetConfirmInputSerializer(serializers.Serializer):
    uid = JSONCharField(max_length=64)
    token = JSONCharField(max_length=128)
    new_password = NewPasswordField()


class PasswordChangeInputSerializer(serializers.Serializer):
    old_password = JSONCharField(max_length=128, trim_whitespace=False)
    new_password = NewPasswordField()


class DetailOutputSerializer(serializers.Serializer):
    detail = JSONCharField()


class PreferencesSerializer(serializers.Serializer):
    newsletter = JSONBooleanField(required=False)
    language = serializers.ChoiceField(choices=LANGUAGE_CODES, required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["Unknown preference."] for key in unknown})
        return super().to_internal_value(data)


class UserOutputSerializer(serializers.ModelSerializer):
    preferences = PreferencesSerializer()

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "phone", "is_seller", "date_joined", "preferences"]
        read_only_fields = fields


class UserUpdateInputSerializer(serializers.Serializer):
    """Only these fields are writable; anything else sent (``email``, ``is_staff``, ...) is ignored."""

    first_name = JSONCharField(max_length=150, required=False, allow_blank=True)
    last_name = JSONCharField(max_length=150, required=False, allow_blank=True)
    phone = JSONCharField(max_length=32, required=False, allow_blank=True, validators=[phone_validator])
    preferences = PreferencesSerializer(required=False)


class CountryCodeField(CountryField):
    """ISO 3166-1 alpha-2 only (any letter case); django-countries would also take alpha-3 and
    numeric codes and country names ("usa", "840", "Germany"), which the contract does not."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) != 2:
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class CountryCodeFieldExtension(OpenApiSerializerFieldExtension):
    """Taken in any letter case (CountryEnum lists the codes upper case, as they are answered)."""

    target_class = CountryCodeField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return country_request_schema()
        return auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)


class AddressSerializer(JSONModelSerializer):
    country = CountryCodeField()

    class Meta:
        model = Address
        fields = [
            "id",
            "full_name",
            "line1",
            "line2",
            "city",
            "region",
            "postal_code",
            "country",
            "phone",
            "is_default",
        ]
        read_only_fields = ["id"]


class StoreOpenInputSerializer(serializers.Serializer):
    name = JSONCharField(max_length=120)
    description = JSONCharField(max_length=5000, required=False, allow_blank=True, default="")


class StoreUpdateInputSerializer(serializers.Serializer):
    name = JSONCharField(max_length=120, required=False)
    description = JSONCharField(max_length=5000, required=False, allow_blank=True)


class EffectiveCommissionRateField(serializers.DecimalField):
    """The store's commission percent: its override, else the deployment's COMMISSION_RATE."""

    def get_attribute(self, instance: Store):
        return store_commission_rate(store=instance)


class StoreOwnOutputSerializer(serializers.ModelSerializer):
    commission_rate = EffectiveCommissionRateField(max_digits=5, decimal_places=2, read_only=True)

    class Meta:
        model = Store
        fields = ["slug", "name", "description", "commission_rate", "created_at"]
        read_only_fields = fields


class StoreRefSerializer(serializers.ModelSerializer):
    """How a store is embedded elsewhere: ``{slug, name}``."""

    class Meta:
        model = Store
        fields = ["slug", "name"]
        read_only_fields = fields
