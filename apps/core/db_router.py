"""Send reads to the read replica, and everything that must see fresh rows to the primary.

Installed (``DATABASE_ROUTERS``) only when ``DATABASE_REPLICA_URL`` is set. The rules:

- every write goes to the primary (``default``);
- a read goes to the primary inside a transaction on it (``transaction.atomic()``: locks,
  re-checks and the rows the transaction itself wrote must come from the primary);
- once anything in a request wrote (``db_for_write`` was asked), the rest of that request reads
  the primary, so a request never reads its own write from a lagging replica;
- the staff login's state is always read from the primary (``PRIMARY_ONLY_APPS``): failed-login
  counters, where a lagging replica would let a burst of guesses past the limit, and sessions,
  which the request before (a login's redirect) has just written;
- every other read goes to the replica.

"Request" is the scope opened by :func:`db_routing_scope` (``DatabaseRoutingMiddleware`` opens
one per request). Outside any scope (management commands) the first write pins the rest of
the process to the primary; open a scope per unit of work to read from the replica again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections

PRIMARY = "default"
REPLICA = "replica"
PRIMARY_ONLY_APPS = frozenset({"axes", "sessions"})

_pinned_to_primary: ContextVar[bool] = ContextVar("bazaar_db_pinned_to_primary", default=False)


@contextmanager
def db_routing_scope() -> Iterator[None]:
    """A unit of work (a request) that starts reading from the replica until it writes."""
    token = _pinned_to_primary.set(False)
    try:
        yield
    finally:
        _pinned_to_primary.reset(token)


def is_pinned_to_primary() -> bool:
    return _pinned_to_primary.get()


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return PRIMARY
        if _pinned_to_primary.get() or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return REPLICA

    def db_for_write(self, model, **hints) -> str:
        _pinned_to_primary.set(True)
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # The replica holds the primary's rows: an object read from either may refer to the other.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        # Replication carries the schema; migrations run on the primary only.
        return db == PRIMARY
