"""Cached public catalog reads and the writes that retire them (docs/operations.md, Caching).

Three kinds of version counters (apps.core.cache) key the entries:

- ``catalog:version``: in every key. Bumped by every write that can change a list, a category or
  a detail beyond its stock: products (create, update, delete, archive), variants (create,
  update, delete, deactivate: apps.catalog.variants), images (add, delete,
  thumbnail made), categories, reviews (the rating), stock returned by a cancel or an expiry,
  and a checkout that takes a product's last unit (``in_stock`` turns false). A list shows stock
  only as ``in_stock``, so a checkout that leaves stock does not touch it.
- ``accounts:stores:version`` (apps.accounts.cache): in the product keys (lists and details).
  Accounts bumps it when a store is renamed or closed, which changes what products show and
  which ones are public. Categories show no store and do not carry it.
- ``catalog:product:<slug>:version``: in that product's detail key only. Bumped by every stock
  change, so the detail's ``stock`` is exact at once while the lists keep their entries.

Only what anyone may see is cached: details are computed as the public sees them (a draft is a
404 there, never stored) and sellers, who may see their own drafts, always bypass the cache.
Entries hold the serialized JSON data; keys of responses with URLs include the request's origin.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from apps.accounts.cache import STORES_VERSION
from apps.core.cache import versioned_get_or_set, versions_bump_on_commit

CATALOG_VERSION = "catalog:version"
# Products show their store's name and are public only while it is open: the stores' writes retire them too.
PRODUCT_VERSIONS = (CATALOG_VERSION, STORES_VERSION)
LIST_SECONDS = 60
DETAIL_SECONDS = 60
CATEGORY_SECONDS = 300
# The query parameters that change the public list (ProductFilter and the pagination); any other
# parameter is ignored by the view, so it must not split the cache either.
LIST_PARAMS = (
    "category",
    "in_stock",
    "max_price",
    "min_price",
    "option",
    "ordering",
    "page",
    "page_size",
    "search",
    "store",
)


def product_version_name(slug: str) -> str:
    return f"catalog:product:{slug}:version"


def catalog_changed() -> None:
    """After commit, retire every cached catalog answer (lists, details, categories)."""
    versions_bump_on_commit([CATALOG_VERSION])


def catalog_stock_changed(*, slugs: Iterable[str], lists: bool) -> None:
    """After commit, retire the details of the products whose stock moved, and with ``lists``
    (some product ran out or came back) every catalog answer too."""
    names = [product_version_name(slug) for slug in sorted(set(slugs))]
    versions_bump_on_commit([*names, CATALOG_VERSION] if lists else names)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def list_query_key(query: Mapping[str, Any], *, names: tuple[str, ...] = LIST_PARAMS) -> str:
    """The list's parameters, normalised: known names only, sorted, every value kept (a repeated
    ``option`` is one condition each, in any order: its values sorted), encoded so that no value
    can pass for another parameter."""
    getlist = getattr(query, "getlist", None)
    pairs = []
    for name in names:
        if name in query:
            values = getlist(name) if getlist else [query[name]]
            pairs.extend((name, value) for value in (sorted(values) if name == "option" else values))
    return urlencode(pairs)


def _origin(request) -> str:
    return request.build_absolute_uri("/")


def product_list_cached(*, request, compute: Callable[[], Any]) -> Any:
    """The public product list's response data for this query (the same for every user)."""
    key = f"catalog:products:{_digest(_origin(request) + '?' + list_query_key(request.query_params))}"
    return versioned_get_or_set(key=key, versions=PRODUCT_VERSIONS, compute=compute, timeout=LIST_SECONDS)


def product_detail_bypasses_cache(*, user) -> bool:
    """Sellers may see their own drafts, archived products and inactive variants: their reads are
    never cached."""
    return bool(user is not None and user.is_authenticated and user.is_seller)


def product_detail_cached(*, request, slug: str, compute: Callable[[], Any]) -> Any:
    """A public product's detail data; ``compute`` must read it as the public sees it."""
    key = f"catalog:product:{slug}:{_digest(_origin(request))}"
    return versioned_get_or_set(
        key=key, versions=[*PRODUCT_VERSIONS, product_version_name(slug)], compute=compute, timeout=DETAIL_SECONDS
    )


def category_list_cached(*, compute: Callable[[], Any]) -> Any:
    return versioned_get_or_set(
        key="catalog:categories", versions=[CATALOG_VERSION], compute=compute, timeout=CATEGORY_SECONDS
    )


def category_detail_cached(*, slug: str, compute: Callable[[], Any]) -> Any:
    return versioned_get_or_set(
        key=f"catalog:category:{slug}", versions=[CATALOG_VERSION], compute=compute, timeout=CATEGORY_SECONDS
    )
