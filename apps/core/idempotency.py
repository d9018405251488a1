"""The one Idempotency-Key mechanism for retried writes (checkout, pay).

A key is claimed per user by a unique insert (never read-then-write), with a hash of the request.
Its first response (status and body) is stored; a replay with the same request gets it back
with ``Idempotent-Replayed: true``; the same key with another request is 409
``idempotency_conflict``. A second request arriving while the first still runs waits briefly for
its answer, then gets 409 ``idempotency_in_progress``. A claim whose request died without an
answer is taken over after ``LOCK_SECONDS``; keys expire after ``TTL``. Services make the work
itself safe to repeat (a checkout retried after a crash finds the order it made).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from apps.core.db import own_statement
from apps.core.exceptions import IdempotencyConflict, IdempotencyInProgress, InvalidIdempotencyKey
from apps.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Printable ASCII with at least one character that is not a space: what a header carries intact
# (HTTP trims the spaces around a value; other bytes arrive decoded as Latin-1, not as sent).
KEY_PATTERN = "^[ -~]*[!-~][ -~]*$"
KEY_RE = re.compile(KEY_PATTERN.replace("$", r"\Z"))
# The header in the OpenAPI schema, for the views that take it: exactly what initial() takes.
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
    location=OpenApiParameter.HEADER,
    required=False,
    description="Retry-safe key: 1 to 255 printable ASCII characters, not all spaces.",
)
TTL = timedelta(hours=24)
# A claim is taken over only once its request cannot still be running: gunicorn kills a worker
# after GUNICORN_TIMEOUT (30 s by default, and a request's provider calls stop before that,
# PAYMENT_PROVIDER_BUDGET_SECONDS), so twice that leaves a margin.
LOCK_SECONDS = 60
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.05


class _Replay(Exception):  # control flow between initial() and handle_exception(); never escapes
    def __init__(self, record: IdempotencyKey):
        self.record = record


def request_fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotency_claim(*, user, key: str, request_hash: str) -> IdempotencyKey:
    """Claim ``key`` for this request. Raises _Replay with the stored answer, IdempotencyConflict
    for another request under the same key, or IdempotencyInProgress while the first request
    still runs."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        now = timezone.now()
        try:
            # Outside a transaction (a request: no ATOMIC_REQUESTS) the insert is its own
            # transaction, one round trip; inside one, a savepoint keeps a collision from breaking it.
            with own_statement():
                return IdempotencyKey.objects.create(
                    user=user, key=key, request_hash=request_hash, locked_until=now + timedelta(seconds=LOCK_SECONDS)
                )
        except IntegrityError:
            pass
        record = IdempotencyKey.objects.filter(user=user, key=key).first()
        if record is None:
            continue  # released or expired in between: claim again
        if record.created_at < now - TTL:
            IdempotencyKey.objects.filter(pk=record.pk, created_at=record.created_at).delete()
            continue
        if record.request_hash != request_hash:
            raise IdempotencyConflict()
        if record.status_code is not None:
            raise _Replay(record)
        if record.locked_until < now:
            taken = IdempotencyKey.objects.filter(
                pk=record.pk, status_code__isnull=True, locked_until=record.locked_until
            ).update(locked_until=now + timedelta(seconds=LOCK_SECONDS))
            if taken:
                record.locked_until = now + timedelta(seconds=LOCK_SECONDS)
                return record
            continue
        if time.monotonic() > deadline:
            raise IdempotencyInProgress()
        time.sleep(POLL_SECONDS)


def _is_outcome(status_code: int) -> bool:
    """Answers worth repeating: success, a decline (402) or a conflict with state (409)."""
    return 200 <= status_code < 300 or status_code in (402, 409)


def idempotency_keys_purge(*, now=None) -> int:
    """Delete keys older than TTL; returns how many."""
    now = now or timezone.now()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=now - TTL).delete()
    return deleted


class IdempotentMixin:
    """For APIViews whose POST may be retried: honours the Idempotency-Key header."""

    _idempotency_record: IdempotencyKey | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._idempotency_record = None
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST":
            return
        if len(key) > MAX_KEY_LENGTH or not KEY_RE.match(key):
            raise InvalidIdempotencyKey()
        self._idempotency_record = idempotency_claim(
            user=request.user, key=key, request_hash=request_fingerprint(request)
        )

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return Response(
                exc.record.response_body,
                status=exc.record.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
        return super().handle_exception(exc)

    def raise_uncaught_exception(self, exc):
        self._idempotency_release()
        super().raise_uncaught_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        record = self._idempotency_record
        if record is not None:
            self._idempotency_record = None
            if not _is_outcome(response.status_code):
                record.delete()  # bad input or a failure, not an outcome: a corrected retry may run
            else:
                body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
                IdempotencyKey.objects.filter(pk=record.pk).update(status_code=response.status_code, response_body=body)
        return super().finalize_response(request, response, *args, **kwargs)

    def _idempotency_release(self) -> None:
        if self._idempotency_record is not None:
            self._idempotency_record.delete()
            self._idempotency_record = None
