"""Typed application errors, and the one place that shapes an error body.

Validation errors answer ``{"field": ["message", ...]}``; every other error answers
``{"detail": "...", "code": "...", **extra}`` (API.md, Conventions), built by ``error_body``:
DRF views get it from ``exception_handler``, code outside DRF (middleware, handler404/500,
/metrics) from ``error_response``.

Each domain keeps its errors in its own ``exceptions.py``, one class per code, and codes are
unique across the project (apps/core/tests/test_error_catalogue.py). This module holds the base
classes and the errors of the shared layers: idempotency, slugs, request guards, the database.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

# A lost, refused or timed-out database connection (and transient failures such as deadlocks or
# lock timeouts) answers 503 with Retry-After: the client may retry, nothing is half-done.
DATABASE_UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
DATABASE_RETRY_AFTER_SECONDS = 5


class ApplicationError(exceptions.APIException):
    """A business-rule failure raised by services; carries an HTTP status, a code and extra fields."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request could not be completed."
    default_code = "error"

    def __init__(self, detail: str | None = None, *, code: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(detail=detail, code=code)
        self.extra = extra or {}


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "Not found."
    default_code = "not_found"


class PermissionDenied(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "You do not have permission to perform this action."
    default_code = "permission_denied"


class Conflict(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class PaymentDeclined(ApplicationError):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    default_detail = "The payment was declined."
    default_code = "card_declined"


class DatabaseUnavailable(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable; try again shortly."
    default_code = "database_unavailable"
    # DRF's handler and error_response answer Retry-After for an exception with a ``wait``.
    wait = DATABASE_RETRY_AFTER_SECONDS


class SlugConflict(Conflict):
    default_detail = "Could not pick a unique address; try again."
    default_code = "slug_conflict"


class InvalidIdempotencyKey(ApplicationError):
    default_detail = "The Idempotency-Key header must be 1 to 255 printable ASCII characters, not all spaces."
    default_code = "invalid_idempotency_key"


class IdempotencyConflict(Conflict):
    default_detail = "This Idempotency-Key was used with a different request."
    default_code = "idempotency_conflict"


class IdempotencyInProgress(Conflict):
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly."
    default_code = "idempotency_in_progress"


class PageTooDeep(ApplicationError):
    default_detail = (
        "This page is too deep: a listing is paged through its first 10,000 results only. "
        "Narrow your filters (a category, a price range, a search) to reach what you are looking for."
    )
    default_code = "page_too_deep"


class BadRequest(ApplicationError):
    """A request refused before any view reads it (a malformed header)."""

    default_detail = "The request is malformed."
    default_code = "bad_request"


class RequestTooLarge(ApplicationError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class ServerError(ApplicationError):
    """An unhandled failure on an API path (handler500); never raised on purpose."""

    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_detail = "Internal server error."
    default_code = "server_error"


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    """``{"detail", "code", **extra}`` for ``exc``: the only place an error body is shaped.

    A dict or list detail (DRF's, simplejwt's) gives its first message; simplejwt's own ``code``
    wins over DRF's; a throttled request also gets ``retry_after`` (seconds)."""
    codes = exc.get_codes()
    if isinstance(exc.detail, dict) and "code" in exc.detail:
        # simplejwt's errors are {"detail", "code", ...} dicts; their own code is the meaningful one.
        codes = str(exc.detail["code"])
    body = {
        "detail": str(exc.detail) if not isinstance(exc.detail, dict | list) else _first_message(exc.detail),
        "code": codes if isinstance(codes, str) else _first_code(codes),
        **getattr(exc, "extra", {}),
    }
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        body["retry_after"] = int(exc.wait)
    return body


def error_response(exc: exceptions.APIException, *, headers: dict[str, str] | None = None) -> JsonResponse:
    """The error as a plain Django response, for code that runs outside DRF's views: the body
    from ``error_body``, ``exc.status_code``, and Retry-After when ``exc`` has a ``wait``."""
    response = JsonResponse(error_body(exc), status=exc.status_code, headers=headers)
    if getattr(exc, "wait", None):
        response["Retry-After"] = str(int(exc.wait))  # as DRF's handler writes it
    return response


def log_database_unavailable(request, exc: Exception) -> None:
    logger.error("database unavailable: %s %s", request.method, request.path, exc_info=exc)


def database_unavailable_response() -> JsonResponse:
    """The 503 for a request the database failed, outside DRF (see DatabaseUnavailableMiddleware)."""
    return error_response(DatabaseUnavailable())


def exception_handler(exc: Exception, context: dict[str, Any]):
    """Render DRF and application errors in the house format; DRF's handler also rolls back.

    A database that is down or failing answers 503 ``database_unavailable`` with Retry-After."""
    if isinstance(exc, DATABASE_UNAVAILABLE_ERRORS):
        log_database_unavailable(context["request"], exc)
        exc = DatabaseUnavailable()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        if not isinstance(response.data, dict):
            response.data = {"non_field_errors": response.data}
        return response
    if isinstance(exc, exceptions.APIException):
        response.data = error_body(exc)
    return response


def _first_message(detail: Any) -> str:
    while isinstance(detail, dict | list):
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return str(detail)


def _first_code(codes: Any) -> str:
    while isinstance(codes, dict | list):
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes)
