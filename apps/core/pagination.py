"""Page-number pagination whose ``count`` stays cheap on large tables (API.md, Conventions).

``count`` is exact up to EXACT_COUNT_LIMIT: one ``COUNT(*)`` over a subquery stopped at
EXACT_COUNT_LIMIT + 1 rows, so it never scans more than that. Beyond, it is PostgreSQL's planner
estimate for the same filtered query (``EXPLAIN``, no rows read), never below the limit + 1; other
databases count exactly.
"""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination as DRFPageNumberPagination

EXACT_COUNT_LIMIT = 10_000


def planner_row_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of how many rows ``queryset`` returns; None on other databases."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        # The SQL is compiled by Django with its values bound as parameters.
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatingPaginator(Paginator):
    exact_count_limit = EXACT_COUNT_LIMIT

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return len(self.object_list)
        limit = self.exact_count_limit
        capped = self.object_list.order_by().values("pk")[: limit + 1].count()
        if capped <= limit:
            return capped
        estimate = planner_row_estimate(self.object_list)
        if estimate is None:
            return self.object_list.count()
        return max(limit + 1, estimate)


class PageNumberPagination(DRFPageNumberPagination):
    """``?page=N&page_size=N``: 20 by default, larger values capped at 100 (API.md)."""

    django_paginator_class = EstimatingPaginator
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
