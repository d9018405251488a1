"""The one exception handler: {"field": [...]} for validation, {"detail", "code", ...} otherwise."""

import json

import pytest
from django.db import transaction
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.core.exceptions import (
    ApplicationError,
    BadRequest,
    Conflict,
    DatabaseUnavailable,
    IdempotencyConflict,
    IdempotencyInProgress,
    InvalidIdempotencyKey,
    NotFound,
    PaymentDeclined,
    PermissionDenied,
    RequestTooLarge,
    ServerError,
    SlugConflict,
    error_body,
    error_response,
    exception_handler,
)
from apps.core.idempotency import HEADER, MAX_KEY_LENGTH


def handle(exc):
    return exception_handler(exc, {})


@pytest.mark.parametrize(
    ("exc", "status", "body"),
    [
        (NotFound(), 404, {"detail": "Not found.", "code": "not_found"}),
        (
            PermissionDenied(),
            403,
            {"detail": "You do not have permission to perform this action.", "code": "permission_denied"},
        ),
        (Conflict(), 409, {"detail": "The request conflicts with the current state.", "code": "conflict"}),
        (PaymentDeclined(), 402, {"detail": "The payment was declined.", "code": "card_declined"}),
        (ApplicationError(), 400, {"detail": "The request could not be completed.", "code": "error"}),
        (SlugConflict(), 409, {"detail": "Could not pick a unique address; try again.", "code": "slug_conflict"}),
        (
            InvalidIdempotencyKey(),
            400,
            {
                "detail": (
                    f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, not all spaces."
                ),
                "code": "invalid_idempotency_key",
            },
        ),
        (
            IdempotencyConflict(),
            409,
            {"detail": f"This {HEADER} was used with a different request.", "code": "idempotency_conflict"},
        ),
        (
            IdempotencyInProgress(),
            409,
            {
                "detail": f"A request with this {HEADER} is still being processed; retry shortly.",
                "code": "idempotency_in_progress",
            },
        ),
        (BadRequest(), 400, {"detail": "The request is malformed.", "code": "bad_request"}),
        (RequestTooLarge(), 413, {"detail": "The request body is too large.", "code": "request_too_large"}),
        (ServerError(), 500, {"detail": "Internal server error.", "code": "server_error"}),
    ],
)
def test_application_errors_render_their_status_detail_and_code(exc, status, body):
    response = handle(exc)

    assert (response.status_code, response.data) == (status, body)


def test_extra_fields_are_added_to_the_body():
    exc = Conflict("Not enough stock.", code="insufficient_stock", extra={"available": 2})

    response = handle(exc)

    assert response.status_code == 409
    assert response.data == {"detail": "Not enough stock.", "code": "insufficient_stock", "available": 2}


def test_validation_errors_keep_the_field_shape():
    response = handle(exceptions.ValidationError({"email": ["Enter a valid email address."]}))

    assert response.status_code == 400
    assert response.data == {"email": ["Enter a valid email address."]}


def test_a_list_validation_error_becomes_non_field_errors():
    response = handle(exceptions.ValidationError(["Something is off."]))

    assert response.data == {"non_field_errors": ["Something is off."]}


def test_a_dict_detail_outside_validation_is_flattened_to_its_first_message():
    response = handle(exceptions.PermissionDenied({"reason": ["Nope."]}))

    assert response.status_code == 403
    assert response.data == {"detail": "Nope.", "code": "permission_denied"}


def test_simplejwt_errors_keep_their_own_code():
    exc = InvalidToken({"detail": "Given token not valid for any token type", "messages": []})

    response = handle(exc)

    assert response.status_code == 401
    assert response.data == {"detail": "Given token not valid for any token type", "code": "token_not_valid"}


def test_throttled_errors_carry_retry_after_in_header_and_body():
    response = handle(exceptions.Throttled(wait=12.2))

    assert response.status_code == 429
    assert response["Retry-After"] == "13"
    assert response.data == {
        "detail": "Request was throttled. Expected available in 13 seconds.",
        "code": "throttled",
        "retry_after": 13,
    }


def test_the_database_unavailable_error_carries_retry_after():
    response = handle(DatabaseUnavailable())

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.data == {
        "detail": "The service is temporarily unavailable; try again shortly.",
        "code": "database_unavailable",
    }


@pytest.mark.parametrize(
    "exc",
    [
        Conflict("Not enough stock.", code="insufficient_stock", extra={"available": 2}),
        exceptions.PermissionDenied({"reason": ["Nope."]}),
        InvalidToken({"detail": "Given token not valid for any token type", "messages": []}),
        exceptions.Throttled(wait=12.2),
        DatabaseUnavailable(),
    ],
)
def test_error_response_outside_drf_answers_what_the_handler_answers(exc):
    handled = handle(exc)

    response = error_response(exc)

    assert response.status_code == handled.status_code
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == handled.data == error_body(exc)
    assert response.get("Retry-After") == handled.get("Retry-After")


def test_error_response_keeps_the_body_order_and_takes_headers():
    response = error_response(
        RequestTooLarge("Request body is larger than 100 bytes.", extra={"limit": 100}),
        headers={"X-Test": "yes"},
    )

    assert response.status_code == 413
    assert (
        response.content
        == b'{"detail": "Request body is larger than 100 bytes.", "code": "request_too_large", "limit": 100}'
    )
    assert response["X-Test"] == "yes"
    assert not response.has_header("Retry-After")


def test_errors_that_are_not_api_errors_are_left_to_django():
    assert handle(ValueError("boom")) is None


class ConflictAfterWriteView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def post(self, request):
        with transaction.atomic():
            UserFactory(email="written@example.com")
            raise Conflict("Too late.", code="too_late")


class ValidatingView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    class InputSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(min_value=1)

    def post(self, request):
        self.InputSerializer(data=request.data).is_valid(raise_exception=True)
        return Response(status=204)


@pytest.mark.django_db
def test_an_error_raised_in_a_service_transaction_leaves_no_write():
    request = APIRequestFactory().post("/x/", {}, format="json")

    response = ConflictAfterWriteView.as_view()(request)

    assert response.status_code == 409
    assert response.data == {"detail": "Too late.", "code": "too_late"}
    assert not User.objects.filter(email="written@example.com").exists()


def test_a_view_validation_error_names_the_field():
    request = APIRequestFactory().post("/x/", {"quantity": 0}, format="json")

    response = ValidatingView.as_view()(request)

    assert response.status_code == 400
    assert response.data == {"quantity": ["Ensure this value is greater than or equal to 1."]}
