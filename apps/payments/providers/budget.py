"""A time budget for the provider calls of one request.

gunicorn kills a sync worker that runs longer than its timeout (30 s), and the Idempotency-Key
claim of a request is taken over after ``apps.core.idempotency.LOCK_SECONDS``. A payment request
may call the provider several times (start, confirm, and the SDK's own retries), so each call gets
only what is left of one budget, set per request below the worker timeout
(``PAYMENT_PROVIDER_BUDGET_SECONDS``). When it is spent, the call fails as a provider timeout: the
payment stays ``pending`` and the webhook or the sync finishes it. Outside a budget (background
tasks) only each call's own timeouts apply.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

_deadline: ContextVar[float | None] = ContextVar("payment_provider_deadline", default=None)


@contextmanager
def provider_budget(seconds: float | None = None) -> Iterator[None]:
    """Bound the provider calls made inside the block to ``seconds`` in all (default
    PAYMENT_PROVIDER_BUDGET_SECONDS). A budget inside another keeps the earlier deadline."""
    limit = settings.PAYMENT_PROVIDER_BUDGET_SECONDS if seconds is None else seconds
    deadline = time.monotonic() + limit
    outer = _deadline.get()
    token = _deadline.set(deadline if outer is None else min(outer, deadline))
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining_seconds() -> float | None:
    """Seconds left of the current budget (may be ≤ 0), or None outside any."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()
