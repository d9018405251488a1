"""Typed application errors and the one DRF exception handler that renders every error.

Validation errors answer ``{"field": ["message", ...]}``; every other error answers
``{"detail": "...", "code": "...", **extra}`` (API.md, Conventions).
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


def log_database_unavailable(request, exc: Exception) -> None:
    logger.error("database unavailable: %s %s", request.method, request.path, exc_info=exc)


def database_unavailable_response() -> JsonResponse:
    """The 503 for a request the database failed, outside DRF (see DatabaseUnavailableMiddleware)."""
    error = DatabaseUnavailable()
    response = JsonResponse({"detail": str(error.detail), "code": error.default_code}, status=error.status_code)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def exception_handler(exc: Exception, context: dict[str, Any]):
    """Render DRF and application errors in the house format; DRF's handler also rolls back.

    A database that is down or failing answers 503 ``database_unavailable`` with Retry-After."""
    if isinstance(exc, DATABASE_UNAVAILABLE_ERRORS):
        log_database_unavailable(context["request"], exc)
        exc = DatabaseUnavailable()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, DatabaseUnavailable):
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    if isinstance(exc, exceptions.ValidationError):
        if not isinstance(response.data, dict):
            response.data = {"non_field_errors": response.data}
        return response
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        if isinstance(exc.detail, dict) and "code" in exc.detail:
            # simplejwt's errors are {"detail", "code", ...} dicts; their own code is the meaningful one.
            codes = str(exc.detail["code"])
        response.data = {
            "detail": str(exc.detail) if not isinstance(exc.detail, dict | list) else _first_message(exc.detail),
            "code": codes if isinstance(codes, str) else _first_code(codes),
            **getattr(exc, "extra", {}),
        }
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            response.data["retry_after"] = int(exc.wait)
    return response


def _first_message(detail: Any) -> str:
    while isinstance(detail, dict | list):
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return str(detail)


def _first_code(codes: Any) -> str:
    while isinstance(codes, dict | list):
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes)
