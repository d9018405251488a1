"""The public product list, compiled once per query and run again for every request (issue 14).

Validating the list's parameters (django-filter), building its queryset and compiling it to SQL
cost a worker more than running the statements (bench/README.md, "compiled catalogue reads"). But the
statements of a query string are always the same: the filters name a category or a store by its
slug inside the SQL (filters.py), never by ids read first. So each worker keeps the compiled
statements of the MAX_PLANS query strings used last (a ``ListingPlan``) and runs them again with
the page's LIMIT and OFFSET as parameters. Only SQL is kept: every request reads the current rows.

What a reused plan skips is the form, so the two checks that depend on data (an unknown category
or store slug is a 400) run when the listing comes back empty, the only case an unknown slug can
produce. A page from row ``PlannedPaginator.deferred_from`` on is a deferred join in two compiled
statements: the page's ids by the listing's filters and order alone, then the rows of those ids
(plain OFFSET would build every skipped row, its first thumbnail included).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.paginator import Page
from django.db import connections, router
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework.exceptions import ValidationError

from apps.catalog import filters, selectors
from apps.catalog.cache import list_query_key
from apps.catalog.compiled import Compiled
from apps.catalog.models import Product
from apps.catalog.pagination import search_page_sql
from apps.core.pagination import DeepPageNumberPagination, EstimatingPaginator, capped_count_sql, listing_count

MAX_PLANS = 256
# The parameters that make up a listing (the page and its size do not: they are LIMIT and OFFSET).
PLAN_PARAMS = ("category", "in_stock", "max_price", "min_price", "option", "ordering", "search", "store")
# The parameters whose validity depends on data: checked again when a reused listing is empty.
CHECKED_PARAMS = ("category", "store")
# The parameters whose rows' membership moves the catalogue's listing version (migration
# catalog 0008): a listing filtered by these alone keeps its exact count until the version moves.
# Not ``in_stock`` (every checkout changes stock), ``option`` (variants) or ``search`` (names).
VERSIONED_PARAMS = ("category", "max_price", "min_price", "ordering", "store")
LISTING_VERSION_TABLE = "catalog_listing_version"
# Ids that no row has: the slots of the statement that reads the rows of a page's ids (compiled.py).
_SLOT_IDS = tuple(-(2**62) - slot for slot in range(200))


@dataclass
class ListingPlan:
    """A listing's statements, compiled from ``rows`` (selectors.product_list_public) and run on
    the connection a request reads from. ``checks`` are the (parameter, value) pairs whose
    validity depends on data (a category's or a store's slug)."""

    rows_queryset: QuerySet
    using: str
    checks: tuple[tuple[str, str], ...]
    empty: bool = False
    searching: bool = False
    count_statement: tuple[str, tuple] | None = None
    page_statement: Compiled | None = None
    ids_statement: Compiled | None = None
    search_statement: tuple[str, tuple] | None = None
    # Counted against the listing version (PostgreSQL, VERSIONED_PARAMS only): the version, the
    # exact limit and the count capped at it, as last counted.
    versioned: bool = False
    _counted: tuple[int, int, int] | None = None
    _by_ids: dict[int, Compiled] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def compile(
        cls, rows: QuerySet, *, using: str, checks: tuple[tuple[str, str], ...], versioned: bool = False
    ) -> ListingPlan:
        plan = cls(rows_queryset=rows, using=using, checks=checks, versioned=versioned)
        if rows.query.is_empty():  # a search without a word: nothing to run
            plan.empty = True
            return plan
        counted = rows.count_source.order_by().values("pk")
        plan.count_statement = counted.query.get_compiler(using).as_sql()
        plan.searching = "relevance" in rows.query.annotations
        if plan.searching:
            sql, params = search_page_sql(rows.using(using))
            plan.search_statement = (sql, tuple(params))
        else:
            plan.page_statement = Compiled.of(rows, using=using)
            plan.ids_statement = Compiled.of(rows.count_source.values("pk"), using=using)  # ordered as the rows
        return plan

    def exact_count(self, using: str) -> int:
        """Where the capped count has no estimate (not PostgreSQL): a plain COUNT. The shared
        queryset is never evaluated in place (a copy counts)."""
        return self.rows_queryset.count_source.using(using).count()

    def count(self, connection, *, exact_limit: int, estimate_cache_seconds: int) -> int:
        """The listing's count as EstimatingPaginator counts it; an empty listing is checked."""
        if self.empty:
            return 0
        sql, params = self.count_statement
        capped = self._versioned_count(connection, exact_limit) if self.versioned else None
        if capped is not None and capped <= exact_limit:
            total = capped
        else:
            total = listing_count(
                connection,
                sql,
                params,
                exact_limit=exact_limit,
                estimate_cache_seconds=estimate_cache_seconds,
                fallback=lambda: self.exact_count(connection.alias),
                capped=capped,
            )
        if total == 0:
            self.check()
        return total

    def _versioned_count(self, connection, exact_limit: int) -> int | None:
        """The listing's count capped at ``exact_limit + 1``, in one statement with the listing
        version: the count kept from an earlier request while the version has not moved (no
        count runs), else counted now in the version's snapshot. None without a version (not
        PostgreSQL, or its row is gone) and inside a transaction, whose own changes move the
        version only when it commits (deferred triggers): count as usual."""
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return None
        sql, params = self.count_statement
        counted = self._counted
        if counted is not None and counted[1] != exact_limit:  # capped at another limit
            counted = None
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT value, CASE WHEN value = %s THEN NULL ELSE ({capped_count_sql(sql, exact_limit)}) END "  # noqa: S608
                f"FROM {LISTING_VERSION_TABLE} WHERE id = 1",
                [counted[0] if counted else -1, *params],
            )
            row = cursor.fetchone()
        if row is None:
            return None
        version, capped = row
        if capped is None:  # unchanged since it was counted
            return counted[2]
        self._counted = (version, exact_limit, capped)
        return capped

    def check(self) -> None:
        """Raise the ValidationError the filters' form would for a slug that names nothing now:
        each value cleaned again by its own field of ProductFilter."""
        errors: dict[str, list[str]] = {}
        for name, value in self.checks:
            try:
                filters.ProductFilter.base_filters[name].field.clean(value)
            except forms.ValidationError as error:
                errors[name] = error.messages
        if errors:
            raise ValidationError(errors)

    def page(self, connection, *, limit: int, offset: int, deferred: bool) -> list[dict]:
        """A page of rows: one statement, or with ``deferred`` the page's ids and then their rows."""
        if not deferred:
            return self.page_statement.rows(connection, suffix=" LIMIT %s OFFSET %s", extra=(limit, offset))
        ids = self.ids_statement.rows(connection, suffix=" LIMIT %s OFFSET %s", extra=(limit, offset))
        return self.rows_of(connection, [row["pk"] for row in ids]) if ids else []

    def search_page(self, connection, *, limit: int, offset: int) -> tuple[list[int], int]:
        sql, params = self.search_statement
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit, offset])
            found = cursor.fetchall()
        return [row[0] for row in found], (found[0][1] if found else 0)

    def rows_of(self, connection, ids: list[int]) -> list[dict]:
        """The listing's rows of ``ids`` (a search page's, a deep page's), in that order."""
        rows = self._rows_by_ids(len(ids)).rows(connection, bind=dict(enumerate(ids)))
        position = {pk: index for index, pk in enumerate(ids)}
        return sorted(rows, key=lambda row: position[row["id"]])

    def _rows_by_ids(self, size: int) -> Compiled:
        with self._lock:
            compiled = self._by_ids.get(size)
        if compiled is None:
            slots = dict(enumerate(_SLOT_IDS[:size]))
            rows = self.rows_queryset.filter(pk__in=list(slots.values())).order_by()
            compiled = Compiled.of(rows, using=self.using, slots=slots)
            with self._lock:
                self._by_ids[size] = compiled
        return compiled


class PlannedPaginator(EstimatingPaginator):
    """Pages a ListingPlan as ProductPaginator pages its queryset (the same answers, the count's
    limits its own): a page of rows, or for a search the page's ids with the total, then their
    rows."""

    # From this row on a page is a deferred join (ListingPlan.page). Measured in-process on the
    # 10,000-product catalogue (worker + PostgreSQL CPU per request): page 50 (row 980) 8.4-10.8 ms
    # plain against 6.4-8.4 deferred; page 6 (row 100) about even (8.0-8.3 against 7.4-8.3).
    deferred_from = 200

    def __init__(self, plan: ListingPlan, per_page, orphans=0, allow_empty_first_page=True, error_messages=None):
        super().__init__(plan, per_page, orphans, allow_empty_first_page, error_messages)
        self.plan = plan
        self.connection = connections[router.db_for_read(Product)]

    @cached_property
    def count(self) -> int:
        return self.plan.count(
            self.connection, exact_limit=self.exact_count_limit, estimate_cache_seconds=self.estimate_cache_seconds
        )

    def page(self, number):
        number = int(number)  # a positive integer: the pagination refused anything else
        offset = (number - 1) * self.per_page
        if not self.plan.searching:  # an empty plan is not searching either
            number = self.validate_number(number)
            if self.plan.empty:
                return Page([], number, self)
            deferred = offset >= self.deferred_from
            return Page(
                self.plan.page(self.connection, limit=self.per_page, offset=offset, deferred=deferred), number, self
            )
        ids, total = self.plan.search_page(self.connection, limit=self.per_page, offset=offset)
        if not ids:  # nothing, or past the end: [] for a first page, else a 404
            if number == 1:
                self.plan.check()
                self.__dict__["count"] = 0
            else:
                self.__dict__["count"] = min(self.count, filters.MAX_SEARCH_RESULTS)
            return Page([], self.validate_number(number), self)
        self.__dict__["count"] = total
        return Page(self.plan.rows_of(self.connection, ids), self.validate_number(number), self)


_plans: OrderedDict[tuple, ListingPlan] = OrderedDict()
_plans_lock = threading.Lock()


def product_list_planned(*, query: Mapping[str, Any]) -> ListingPlan:
    """The public product list for ``query`` (the list's query string), as a plan: built and
    compiled on a worker's first request of this query (ValidationError for a malformed one,
    which is never kept), reused after. Page it with PlannedPaginator."""
    using = router.db_for_read(Product)
    key = (connections[using].vendor, list_query_key(query, names=PLAN_PARAMS))
    with _plans_lock:
        plan = _plans.get(key)
        if plan is not None:
            _plans.move_to_end(key)
            return plan
    rows = selectors.product_list_public(filters=query)  # validates: raises ValidationError
    versioned = all(name in VERSIONED_PARAMS for name in PLAN_PARAMS if name in query)
    plan = ListingPlan.compile(rows, using=using, checks=_checks(query), versioned=versioned)
    with _plans_lock:
        _plans[key] = plan
        while len(_plans) > MAX_PLANS:
            _plans.popitem(last=False)
    return plan


def plans_clear() -> None:
    """Forget every compiled listing (tests; a schema change restarts the workers anyway)."""
    with _plans_lock:
        _plans.clear()


def _checks(query: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((name, query[name]) for name in CHECKED_PARAMS if query.get(name))


class PlannedPagination(DeepPageNumberPagination):
    """The public list's pagination (its parameters, 400s and links as every list's): pages a
    ListingPlan."""

    django_paginator_class = PlannedPaginator
