"""SQL queries and in-process time per request, for each endpoint bench/growth.sh measures.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=... .venv/bin/python bench/queries.py --label size=10000

Requests go through Django's test client (the whole middleware and DRF stack, no HTTP, no
gunicorn) one at a time against the bench database; each endpoint is called once to warm up, then
``--repeat`` times. Prints one line per endpoint: the number of SQL statements of the last call,
the median time of a call and the median time the database took (as Django measured it). Add to
cart and checkout change the database (a bench buyer's cart and orders; stock of one product).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count, F  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.catalog.filters import Matches, match_tsquery, search_terms  # noqa: E402
from apps.catalog.models import Product, Variant  # noqa: E402
from apps.catalog.selectors import PUBLIC  # noqa: E402
from apps.catalog.stock import products_refresh  # noqa: E402

ADDRESS = {"full_name": "Bench Buyer", "line1": "1 Load St", "city": "Benchville", "country": "US"}


class DatabaseClock:
    """Time spent in the database driver's execute, summed (Django's own figures are rounded to 1 ms)."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def measure(call, prepare=None, *, repeat: int) -> tuple[int, float, float, int]:
    """(statements of the last call, median ms per call, median ms in the database, last status)."""
    if prepare:
        prepare()
    call()  # warm up
    timings, in_database = [], []
    for _ in range(repeat):
        if prepare:
            prepare()
        clock = DatabaseClock()
        with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(clock):
            started = time.perf_counter()
            response = call()
            timings.append(time.perf_counter() - started)
        in_database.append(clock.seconds)
    return len(queries), statistics.median(timings) * 1000, statistics.median(in_database) * 1000, response.status_code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", default="")
    parser.add_argument("--search", default="oak hammer")
    parser.add_argument("--category", default="tools-diy")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    logging.disable(logging.INFO)  # the inline tasks' log lines
    product = Product.objects.filter(status="active", store__is_active=True).order_by("id").first()
    # The detail measured is the first product sold in several forms (the most variants among the
    # first 1,000), the cart and checkout a variant of it.
    candidates = Product.objects.filter(status="active", store__is_active=True).order_by("id")[:1000]
    product = (
        Product.objects.filter(pk__in=candidates.values("pk"))
        .annotate(forms=Count("variants"))
        .order_by("-forms", "id")
        .first()
    ) or product
    variant = product.variants.filter(is_active=True).order_by("id").first()
    Variant.objects.filter(pk=variant.pk).update(stock=1_000_000)
    products_refresh(product_ids=[product.pk])
    print(f"detail {args.label} product={product.slug} variants={product.variants.count()}")
    user, _ = User.objects.get_or_create(email="bench-queries@bench.test")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    anonymous = Client()  # the catalogue is read as most of its readers do: without logging in
    listed = anonymous.get("/api/v1/products/").json()["count"]
    deep = min(500, listed // 20)  # page 500, or a smaller catalogue's last full page

    def get(path: str, **params):
        return lambda: anonymous.get(path, params)

    def add_to_cart():
        return client.post(
            "/api/v1/cart/items/",
            {"product": product.slug, "variant": variant.sku, "quantity": 1},
            content_type="application/json",
        )

    def empty_cart():
        client.delete("/api/v1/cart/")

    def fill_cart():
        empty_cart()
        add_to_cart()

    def checkout():
        return client.post(
            "/api/v1/checkout/",
            {"shipping_address": ADDRESS, "payment_method": "pm_card_visa"},
            content_type="application/json",
        )

    endpoints = {
        "list": (get("/api/v1/products/"), None),
        "category": (get("/api/v1/products/", category=args.category), None),
        "search": (get("/api/v1/products/", search=args.search), None),
        "page500": (get("/api/v1/products/", page=deep), None),
        "detail": (get(f"/api/v1/products/{product.slug}/"), None),
        "add-to-cart": (add_to_cart, empty_cart),
        "checkout+pay": (checkout, fill_cart),
    }
    if connection.vendor == "postgresql":  # how many products the search matches, before the cap
        matches = Product.objects.filter(PUBLIC, Matches(F("search_vector"), match_tsquery(search_terms(args.search))))
        matches = matches.count()
        total = Product.objects.count()
        print(f"matches {args.label} search={args.search!r} count={matches} share={matches / total:.4%}")
    for name, (call, prepare) in endpoints.items():
        statements, milliseconds, in_database, status = measure(call, prepare, repeat=args.repeat)
        print(
            f"queries {args.label} endpoint={name} status={status} statements={statements} "
            f"ms={milliseconds:.1f} db_ms={in_database:.1f}"
        )
    empty_cart()


if __name__ == "__main__":
    main()
