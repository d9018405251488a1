"""Where checkout + pay spends its statements and time, in-process (Django's test client: the
whole middleware and DRF stack, no HTTP) against the database of DATABASE_URL (issue 14).

    DATABASE_URL=postgres://... bench/profile_checkout.py [--key] [--repeat 50] [--statements] [--profile out.html]

Each call empties a bench buyer's cart, adds one variant (or ``--lines`` variants from
``--stores`` stores) and posts ``/api/v1/checkout/`` with ``pm_card_visa``; prints the median time
of a call, the median time inside the database driver, the statements of the last call (with
``--statements``, each one with its time) and, with ``--profile``, a pyinstrument profile of
the measured calls.
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
for name, value in {
    "ENV": "prod",
    "DEBUG": "false",
    "THROTTLE_DISABLED": "true",
    "SECURE_SSL_REDIRECT": "false",
    "PAYMENT_PROVIDER": "simulated",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "EMAIL_URL": "dummymail://",
    "SECRET_KEY": "bench-profile-" + "x" * 50,
    "DJANGO_SETTINGS_MODULE": "bench.settings",
}.items():
    os.environ.setdefault(name, value)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.catalog.models import Variant  # noqa: E402
from apps.catalog.stock import products_refresh  # noqa: E402

ADDRESS = {"full_name": "Bench Buyer", "line1": "1 Load St", "city": "Benchville", "country": "US"}


TICK = os.sysconf("SC_CLK_TCK")


def backend_cpu() -> float:
    """CPU seconds this connection's PostgreSQL backend has used (the server is on this machine)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Clock:
    """Every statement with its time in the driver."""

    def __init__(self):
        self.statements: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((time.perf_counter() - started, sql))


# Where a function's own time is counted (the first prefix its file's path contains wins).
PACKAGES = (
    ("django/db/models/", "Django ORM: building, compiling querysets, making rows and instances"),
    ("django/db/backends/", "Django database layer (cursor wrappers, transactions)"),
    ("psycopg/", "psycopg (sending statements, waiting for and reading answers)"),
    ("rest_framework/", "Django REST framework (views, parsers, serializers)"),
    ("django/template/", "Django templates (the paid mails)"),
    ("celery/", "Celery (tasks run inline without a broker)"),
    ("django/", "Django, the rest (request handling, middleware, signals, utils)"),
    ("/apps/", "Bazaar's own code"),
    ("site-packages/", "other libraries (simplejwt, jwt, axes, otp, orjson, ...)"),
)


def print_by_package(stats, *, calls: int) -> None:
    """The profile's own time (tottime) per package, in ms per checkout and as a share."""
    totals: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():
        label = next((name for prefix, name in PACKAGES if prefix in filename), "Python itself (builtins, stdlib)")
        totals[label] = totals.get(label, 0.0) + own
    whole = sum(totals.values())
    print(f"own time by package, per checkout ({calls} calls, under cProfile: about twice the real time):")
    for label, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  {seconds * 1000 / calls:6.2f} ms  {seconds / whole:6.1%}  {label}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--lines", type=int, default=1)
    parser.add_argument("--stores", type=int, default=1)
    parser.add_argument("--key", action="store_true", help="send an Idempotency-Key with each checkout")
    parser.add_argument("--statements", action="store_true")
    parser.add_argument("--profile", help="write a pyinstrument HTML profile here (and print its text)")
    parser.add_argument("--cprofile", type=int, metavar="N", help="print cProfile's top N functions by cumulative time")
    parser.add_argument(
        "--by-package",
        action="store_true",
        help="with --cprofile: also the calls' own time summed by where the code lives (Django's ORM, DRF, ...)",
    )
    args = parser.parse_args()
    logging.disable(logging.INFO)

    variants = list(
        Variant.objects.filter(is_active=True, product__status="active", product__store__is_active=True)
        .order_by("product__store_id", "product_id", "id")
        .distinct("product__store_id", "product_id")
        .values_list("pk", "product_id", "product__slug", "sku", "product__store_id")[:400]
    )
    by_store: dict[int, list] = {}
    for row in variants:
        by_store.setdefault(row[4], []).append(row)
    stores = list(by_store.values())[: args.stores]
    chosen = [stores[index % len(stores)][index // len(stores)] for index in range(args.lines)]
    Variant.objects.filter(pk__in=[row[0] for row in chosen]).update(stock=1_000_000)
    products_refresh(product_ids=[row[1] for row in chosen])
    user, _ = User.objects.get_or_create(email="bench-profile@bench.test")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    counter = {"n": 0}

    def prepare():
        client.delete("/api/v1/cart/")
        for _, _, slug, sku, _ in chosen:
            added = client.post(
                "/api/v1/cart/items/", {"product": slug, "variant": sku, "quantity": 1}, content_type="application/json"
            )
            if added.status_code != 201:
                raise SystemExit(f"add to cart failed: {added.status_code} {added.content[:300]!r}")

    def checkout():
        counter["n"] += 1
        headers = {"HTTP_IDEMPOTENCY_KEY": f"profile-{time.time_ns()}-{counter['n']}"} if args.key else {}
        response = client.post(
            "/api/v1/checkout/",
            {"shipping_address": ADDRESS, "payment_method": "pm_card_visa"},
            content_type="application/json",
            **headers,
        )
        if response.status_code != 201 or response.json()["status"] != "paid":
            raise SystemExit(f"checkout failed: {response.status_code} {response.content[:300]!r}")
        return response

    prepare()
    checkout()  # warm up
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
    elif args.cprofile:
        # bench/profile.py would shadow the standard library's profile module, which cProfile imports.
        here = Path(__file__).resolve().parent
        sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
        import cProfile

        profiler = cProfile.Profile()
        profiler.start, profiler.stop = profiler.enable, profiler.disable
    timings, in_database, cpu = [], [], []
    clock = Clock()
    spent = {"cart_python": 0.0, "cart_database": 0.0, "checkout_database": 0.0}
    for _ in range(args.repeat):
        started_cpu, started_backend = time.process_time(), backend_cpu()
        prepare()
        spent["cart_python"] += time.process_time() - started_cpu
        backend = backend_cpu()
        spent["cart_database"] += backend - started_backend
        clock = Clock()
        with connection.execute_wrapper(clock):
            if profiler:
                profiler.start()
            started, started_cpu = time.perf_counter(), time.process_time()
            checkout()
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            if profiler:
                profiler.stop()
        in_database.append(sum(seconds for seconds, _ in clock.statements))
        spent["checkout_database"] += backend_cpu() - backend
    print(
        f"checkout lines={args.lines} stores={args.stores} key={args.key} statements={len(clock.statements)} "
        f"ms={statistics.median(timings) * 1000:.1f} db_ms={statistics.median(in_database) * 1000:.1f} "
        f"python_cpu_ms={statistics.median(cpu) * 1000:.1f} "
        f"(vendor {connection.vendor}, {args.repeat} calls)"
    )
    per = {name: seconds * 1000 / args.repeat for name, seconds in spent.items()}
    print(
        f"cpu_ms per order (mean): checkout python={statistics.fmean(cpu) * 1000:.1f} "
        f"database={per['checkout_database']:.1f}; cart (DELETE + {args.lines} add) "
        f"python={per['cart_python']:.1f} database={per['cart_database']:.1f}"
    )
    if args.statements:
        for index, (seconds, sql) in enumerate(clock.statements, 1):
            print(f"{index:3} {seconds * 1000:6.2f} ms  {sql[:160]}")
    if args.profile:
        Path(args.profile).write_text(profiler.output_html())
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    elif args.cprofile:
        import pstats

        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(args.cprofile)
        if args.by_package:
            print_by_package(stats, calls=args.repeat)


if __name__ == "__main__":
    main()
