"""Where a request's time goes: one endpoint called N times in-process under pyinstrument.

    DJANGO_SETTINGS_MODULE=bench.settings ENV=prod DATABASE_URL=... .venv/bin/python bench/profile.py list
    .venv/bin/python bench/profile.py detail --repeat 500 --html /tmp/detail.html

Settings as bench/lib.sh sets them for gunicorn (``ENV=prod``, ``DEBUG=false``, no Redis,
throttles off): run it with the same environment. Requests go through Django's test client, so
the whole middleware stack, DRF, the ORM and the database run as under gunicorn; only the WSGI
server is missing (its share shows as "test client", which production does not pay). Each
endpoint is called ``--warmup`` times first, then ``--repeat`` times under the sampling profiler.

Prints two tables: time per request by layer, and the 20 functions with the most time of their
own (their callees excluded). A sample is charged to the innermost layer on its stack, so the
database's time inside the ORM counts as "database", the ORM's inside a serializer as ORM.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.test import Client  # noqa: E402
from pyinstrument import Profiler  # noqa: E402

from apps.catalog.models import Product  # noqa: E402

# (layer, pattern on "file_path:function"): the first match names a frame's layer; a frame that
# matches none inherits its caller's. Order matters: the database before the ORM before the rest.
LAYERS = [
    ("database (driver, network, PostgreSQL)", r"psycopg|sqlite3/|backends/utils\.py:(_execute|execute)"),
    (
        "ORM: row building",
        r"compiler\.py:(results_iter|apply_converters|composite_fields_to_tuples)|django/db/models/base\.py:(from_db|__init__)",
    ),
    (
        "ORM: SQL compilation",
        r"django/db/models/sql/(compiler|query|where)\.py|django/db/models/(expressions|lookups)\.py",
    ),
    ("ORM: queryset building, filters", r"django/db/models/|django_filters/|apps/catalog/filters\.py"),
    ("JSON rendering", r"rest_framework/renderers\.py|apps/core/renderers\.py|json/|orjson"),
    ("serializers", r"rest_framework/(serializers|fields|utils/serializer_helpers)\.py|apps/.*/serializers\.py"),
    (
        "pagination",
        r"rest_framework/pagination\.py|apps/core/pagination\.py|apps/catalog/pagination\.py|django/core/paginator\.py",
    ),
    ("authentication", r"rest_framework/authentication\.py|rest_framework_simplejwt/|contrib/auth/"),
    ("permissions, throttles, negotiation", r"rest_framework/(permissions|throttling|negotiation)\.py"),
    ("middleware", r"[/_]middleware\.py"),
    ("URL resolving", r"django/urls/"),
    ("DRF view dispatch, request, response", r"rest_framework/|django/views/"),
    ("Django handler, HttpResponse", r"django/core/handlers/|django/http/"),
    ("test client (not in production)", r"django/test/"),
    ("application code", r"/apps/"),
]
_LAYERS = [(name, re.compile(pattern)) for name, pattern in LAYERS]


def layer_of(frame, inherited: str) -> str:
    where = f"{frame.file_path or ''}:{frame.function or ''}"
    for name, pattern in _LAYERS:
        if pattern.search(where):
            return name
    return inherited


def attribute(root) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """Self time per layer and per function (location, layer), walking the call tree."""
    by_layer: dict[str, float] = defaultdict(float)
    by_function: dict[tuple[str, str], float] = defaultdict(float)
    stack = [(root, "other")]
    while stack:
        frame, inherited = stack.pop()
        layer = layer_of(frame, inherited)
        own = frame.total_self_time
        if own:
            by_layer[layer] += own
            short = (frame.file_path_short or frame.file_path or "?").replace(str(Path.cwd()) + "/", "")
            by_function[(f"{frame.function} ({short}:{frame.line_no})", layer)] += own
        stack.extend((child, layer) for child in frame.children if not child.is_synthetic)
    return by_layer, by_function


def endpoints(args) -> dict[str, str]:
    product = Product.objects.filter(status="active", store__is_active=True, variants__isnull=False)
    slug = args.slug or product.order_by("-options", "id").values_list("slug", flat=True)[500]
    return {
        "list": "/api/v1/products/",
        "page50": "/api/v1/products/?page=50",
        "category": f"/api/v1/products/?category={args.category}",
        "search": f"/api/v1/products/?search={args.search}",
        "detail": f"/api/v1/products/{slug}/",
        "ceiling": "/bench/ceiling/?bytes=7400",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "endpoint", nargs="*", default=["list"], help="list page50 category search detail ceiling, or a path"
    )
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.0002, help="sampling interval, seconds")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--search", default="oak%20hammer")
    parser.add_argument("--category", default="tools-diy")
    parser.add_argument("--slug", default="")
    parser.add_argument("--html", default="", help="also write pyinstrument's HTML report here")
    args = parser.parse_args()

    known = endpoints(args)
    client = Client()  # anonymous, as most catalogue readers
    for name in args.endpoint:
        path = known.get(name, name)
        for _ in range(args.warmup):
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        size = len(response.content)
        profiler = Profiler(interval=args.interval)
        started = time.perf_counter()
        profiler.start()
        for _ in range(args.repeat):
            client.get(path)
        profiler.stop()
        elapsed = (time.perf_counter() - started) / args.repeat * 1000
        by_layer, by_function = attribute(profiler.last_session.root_frame())
        sampled = sum(by_layer.values()) or 1.0
        per_request = {layer: seconds / args.repeat * 1000 for layer, seconds in by_layer.items()}
        print(f"\n## {name}: GET {path} ({size} bytes), {args.repeat} requests, {elapsed:.2f} ms each (profiled)\n")
        print("| layer | ms per request | share |\n|---|---:|---:|")
        for layer, ms in sorted(per_request.items(), key=lambda item: -item[1]):
            print(f"| {layer} | {ms:.3f} | {by_layer[layer] / sampled:.0%} |")
        print(f"\nTop {args.top} functions by own time:\n")
        print("| function | layer | ms per request | share |\n|---|---|---:|---:|")
        for (function, layer), seconds in sorted(by_function.items(), key=lambda item: -item[1])[: args.top]:
            print(f"| `{function}` | {layer} | {seconds / args.repeat * 1000:.3f} | {seconds / sampled:.1%} |")
        if args.html:
            target = args.html if len(args.endpoint) == 1 else args.html.replace(".html", f"-{name}.html")
            Path(target).write_text(profiler.output_html())
            print(f"\n(pyinstrument's HTML report: {target})")


if __name__ == "__main__":
    main()
