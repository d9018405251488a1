"""The version counter of what other apps cache about stores (docs/operations.md, Caching).

Cached answers that show a store's name, or exist only while the store is open (the catalog's
products), are stamped with ``STORES_VERSION`` by whoever caches them; accounts bumps it on every
store write that changes either, and needs to know nothing about those caches.
"""

from __future__ import annotations

from apps.core.cache import versions_bump_on_commit

STORES_VERSION = "accounts:stores:version"


def stores_changed() -> None:
    """After commit, retire every cached answer stamped with ``STORES_VERSION``."""
    versions_bump_on_commit([STORES_VERSION])
