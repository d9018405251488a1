"""Small database helpers shared by the apps."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from django.db import transaction


def own_statement() -> AbstractContextManager:
    """Around one statement that may fail on a unique key: a savepoint when a transaction is open
    (the failure would break it otherwise), nothing outside one, where the statement is its own
    transaction already (one round trip instead of three)."""
    return transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
