"""Request ids, the logging filter that stamps them on every record, and Sentry's event scrubber.

Imported by settings (LOGGING, Sentry) before the apps load: no models here.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
MAX_REQUEST_ID_LENGTH = 200
NO_REQUEST_ID = "-"

_request_id: ContextVar[str] = ContextVar("bazaar_request_id", default=NO_REQUEST_ID)


def current_request_id() -> str:
    """The id of the request being served in this context, or ``-`` outside a request."""
    return _request_id.get()


def request_id_from_header(value: str | None) -> str:
    """Keep a client's or proxy's id when it is printable ASCII of 1 to 200 characters; else a new uuid4 hex."""
    if value:
        value = value.strip()
        if 0 < len(value) <= MAX_REQUEST_ID_LENGTH and value.isascii() and value.isprintable():
            return value
    return uuid.uuid4().hex


def bind_request_id(request_id: str):
    """Make ``request_id`` current; returns the token for :func:`unbind_request_id`."""
    return _request_id.set(request_id)


def unbind_request_id(token) -> None:
    _request_id.reset(token)


class RequestIdLogFilter(logging.Filter):
    """Add ``request_id`` to every record (``-`` outside a request), for both log formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, request_id, and
    exc_info and ``extra`` fields when present.

    gunicorn's access records (their arguments are the access-log atoms) also get the request id
    the app answered with, and the request's method, path, status, size and duration as fields.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s %(request_id)s")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data, record, message_dict) -> None:
        super().add_fields(log_data, record, message_dict)
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            atoms = record.args
            log_data.update(
                request_id=atoms["{x-request-id}o"],
                remote_addr=atoms["h"],
                method=atoms["m"],
                path=atoms["U"],
                status=int(atoms["s"]),
                bytes=atoms["B"],
                duration_seconds=float(atoms["L"]),
            )


# Headers that carry credentials or replayable secrets; Sentry never receives their values.
SCRUBBED_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "stripe-signature", "x-csrftoken"})
SCRUBBED = "[Filtered]"


def sentry_before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Drop credentials and request bodies (passwords, card numbers) from an event; tag its request id."""
    request = event.get("request") or {}
    headers = request.get("headers")
    if isinstance(headers, dict):
        for name in headers:
            if name.lower() in SCRUBBED_HEADERS:
                headers[name] = SCRUBBED
    if "data" in request:
        request["data"] = SCRUBBED
    if "cookies" in request:
        request["cookies"] = SCRUBBED
    request_id = current_request_id()
    if request_id != NO_REQUEST_ID:
        event.setdefault("tags", {})["request_id"] = request_id
    return event
