"""Paging the product lists: deep pages as deferred joins (apps/core/pagination.py), and searches
capped at MAX_SEARCH_RESULTS candidates, ranked and counted in one statement."""

from __future__ import annotations

from django.core.paginator import Page
from django.db import connections
from django.db.models import F

from apps.catalog import filters
from apps.core.pagination import DeepPageNumberPagination, DeferredJoinPaginator


class ProductPaginator(DeferredJoinPaginator):
    """A search (a listing annotated with ``relevance`` by filters.product_search) is paged in two
    statements, the search index walked once:

    1. the page's ids and the total, from the first MAX_SEARCH_RESULTS matches the index yields
       (every filter applied), sorted by the listing's order: ``SELECT id, COUNT(*) OVER () FROM
       (SELECT id, <sort keys> FROM ... LIMIT 1000) ORDER BY <sort keys> LIMIT 20 OFFSET n``; each
       candidate's row is read once, in the index's bitmap scan, and ranked there;
    2. the rows of those ids, as the listing builds them.

    ``count`` is the number of candidates, so at most MAX_SEARCH_RESULTS. Other listings page as
    DeferredJoinPaginator does."""

    def page(self, number):
        listing = self.object_list
        if "relevance" not in listing.query.annotations or listing.query.is_empty():
            return super().page(number)
        number = int(number)  # a positive integer: PageNumberPagination refused anything else
        ids, total = self._page_ids(number)
        if not ids:  # nothing, or past the end: [] for a first page, else a 404
            self.__dict__["count"] = 0 if number == 1 else min(self.count, filters.MAX_SEARCH_RESULTS)
            return super().page(number)
        self.__dict__["count"] = total  # what the ``count`` cached_property would hold
        rows = sorted(listing.filter(pk__in=ids).order_by(), key=lambda row: ids.index(_pk(row)))
        return Page(rows, self.validate_number(number), self)

    def _page_ids(self, number: int) -> tuple[list[int], int]:
        listing = self.object_list
        sql, params = search_page_sql(listing)
        with connections[listing.db].cursor() as cursor:
            cursor.execute(sql, [*params, self.per_page, (number - 1) * self.per_page])
            found = cursor.fetchall()
        return [row[0] for row in found], (found[0][1] if found else 0)


def search_page_sql(listing) -> tuple[str, list]:
    """The statement that finds a search page's ids and the total (ProductPaginator, step 1), with
    its parameters but the last two: the page's size and its offset."""
    order = [(key.lstrip("-"), key.startswith("-")) for key in listing.query.order_by]
    sort_keys = {f"sort_{index}": F(name) for index, (name, _) in enumerate(order)}  # relevance too
    candidates = listing.order_by().annotate(**sort_keys).values("id", *sort_keys)[: filters.MAX_SEARCH_RESULTS]
    sql, params = candidates.query.sql_with_params()
    connection = connections[listing.db]
    order_by = ", ".join(
        f"{connection.ops.quote_name(key)} {'DESC' if descending else 'ASC'}"
        for key, (_, descending) in zip(sort_keys, order, strict=True)
    )
    # Names quoted, values bound.
    statement = f"SELECT id, COUNT(*) OVER () FROM ({sql}) AS candidates ORDER BY {order_by} LIMIT %s OFFSET %s"  # noqa: S608
    return statement, list(params)


def _pk(row) -> int:
    return row["id"] if isinstance(row, dict) else row.pk


class ProductPagination(DeepPageNumberPagination):
    django_paginator_class = ProductPaginator
