"""Request-level middleware: guards that answer before a view reads anything, and headers every
response needs."""

from __future__ import annotations

from django.conf import settings

from apps.core.db_router import db_routing_scope
from apps.core.exceptions import (
    DATABASE_UNAVAILABLE_ERRORS,
    BadRequest,
    RequestTooLarge,
    database_unavailable_response,
    error_response,
    log_database_unavailable,
)
from apps.core.observability import REQUEST_ID_HEADER, bind_request_id, request_id_from_header, unbind_request_id


class RequestIdMiddleware:
    """Give every request an id: the incoming ``X-Request-ID`` when valid, else a new uuid4 hex.

    The id is on ``request.request_id``, on every log record written while the request is served
    (through a context variable) and in the ``X-Request-ID`` response header.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from_header(request.headers.get(REQUEST_ID_HEADER))
        token = bind_request_id(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            unbind_request_id(token)
        response[REQUEST_ID_HEADER] = request.request_id
        return response


class RequestBodyLimitMiddleware:
    """Answer 413 JSON when the declared body is larger than allowed, before anything reads it.

    Uploads (multipart) get ``MAX_UPLOAD_BODY_BYTES``; every other body ``MAX_JSON_BODY_BYTES``.
    A malformed Content-Length is a 400. Django's WSGI request reads at most Content-Length bytes,
    so a body without the header cannot smuggle more.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
            if length < 0:
                raise ValueError(raw_length)
        except ValueError:
            return error_response(BadRequest("Malformed Content-Length header."))
        is_upload = request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data")
        limit = settings.MAX_UPLOAD_BODY_BYTES if is_upload else settings.MAX_JSON_BODY_BYTES
        if length > limit:
            return error_response(
                RequestTooLarge(f"Request body is larger than {limit} bytes.", extra={"limit": limit})
            )
        return self.get_response(request)


class PrivateNoStoreMiddleware:
    """Mark responses to authenticated requests ``Cache-Control: no-store``.

    A request is private when it carries an ``Authorization`` header (valid or not), a session
    cookie (the admin), or a user that authentication resolved (DRF sets it on the request).
    Anonymous responses keep whatever caching headers the view chose. No database query: the
    lazy session user is only evaluated without a session cookie, where it is anonymous at once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if _is_private(request):
            response["Cache-Control"] = "no-store"
        return response


def _is_private(request) -> bool:
    if "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES:
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class DatabaseRoutingMiddleware:
    """Open one database routing scope per request: reads go to the replica (when there is one)
    until the request writes, then to the primary (apps/core/db_router.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with db_routing_scope():
            return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """Answer 503 JSON ``database_unavailable`` with Retry-After when a view outside DRF (the
    admin, media) fails on the database; DRF views get the same from the exception handler and
    failures in other middleware from ``handler500``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_UNAVAILABLE_ERRORS):
            log_database_unavailable(request, exception)
            return database_unavailable_response()
        return None
