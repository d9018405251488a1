"""Checkout load: add to cart per second, and checkout + pay per second, with N concurrent
buyers against a running server; then checks that nothing was oversold.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=... .venv/bin/python bench/checkout.py \
        --base http://127.0.0.1:8811 --buyers 16 --seconds 10

Setup (buyers, their tokens, stock) goes through the ORM of the same database; the load goes
through HTTP only. Run by bench/run.sh after the catalog measurements.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.db.models import Sum  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.cart.models import CartItem  # noqa: E402
from apps.catalog.models import Variant  # noqa: E402
from apps.catalog.stock import products_refresh  # noqa: E402
from apps.orders.models import OrderLine  # noqa: E402

ADDRESS = {"full_name": "Bench Buyer", "line1": "1 Load St", "city": "Benchville", "country": "US"}
SCARCE_STOCK = 40


def buyers_with_tokens(count: int) -> list[str]:
    tokens = []
    for index in range(count):
        user, _ = User.objects.get_or_create(email=f"bench-buyer-{index}@bench.test")
        CartItem.objects.filter(cart__user=user).delete()
        tokens.append(str(RefreshToken.for_user(user).access_token))
    return tokens


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else 0.0


def hammer(name: str, tokens: list[str], seconds: float, step) -> dict:
    """Run ``step(session, buyer_index)`` in a loop per buyer for ``seconds``; collect latencies."""
    latencies: list[float] = []
    failures: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop(index: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {tokens[index]}"
        while time.monotonic() < deadline:
            started = time.perf_counter()
            status = step(session, index)
            elapsed = time.perf_counter() - started
            with lock:
                if status in (200, 201):
                    latencies.append(elapsed)
                else:
                    failures[status] = failures.get(status, 0) + 1

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        list(pool.map(loop, range(len(tokens))))
    took = time.monotonic() - began
    return {
        "name": name,
        "ok": len(latencies),
        "per_second": len(latencies) / took,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else 0.0,
        "failures": failures,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8811")
    parser.add_argument("--buyers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--label", default="", help="Prefix of every output line's fields (bench/growth.sh).")
    args = parser.parse_args()

    # One active variant of each of the first 200 products for sale; the scarce one is a variant of
    # a product sold in several (when the catalogue has one), so its siblings keep selling.
    variants = list(
        Variant.objects.filter(is_active=True, product__status="active", product__store__is_active=True)
        .order_by("product_id", "id")
        .distinct("product_id")
        .values_list("pk", "product_id", "product__slug", "sku", "options")[:200]
    )
    Variant.objects.filter(pk__in=[row[0] for row in variants]).update(stock=1_000_000)
    scarce = next((row for row in variants if row[4]), variants[0])
    Variant.objects.filter(pk=scarce[0]).update(stock=SCARCE_STOCK)
    products_refresh(product_ids=[row[1] for row in variants])
    scarce_pk = scarce[0]
    scarce_line = {"product": scarce[2], "variant": scarce[3]}
    sold_before = OrderLine.objects.filter(variant_id=scarce_pk).aggregate(n=Sum("quantity"))["n"] or 0
    tokens = buyers_with_tokens(args.buyers)
    url = args.base.rstrip("/") + "/api/v1"
    lines = [{"product": slug, "variant": sku} for pk, _, slug, sku, _ in variants if pk != scarce_pk]

    def add_to_cart(session: requests.Session, index: int) -> int:
        line = lines[(index * 7 + int(time.perf_counter() * 1000)) % len(lines)]
        response = session.post(f"{url}/cart/items/", json={**line, "quantity": 1})
        if response.status_code == 400:  # a line reached 99 or the cart 100 lines: start over
            session.delete(f"{url}/cart/")
        return response.status_code

    counter = {"n": 0}

    def checkout_and_pay(session: requests.Session, index: int) -> int:
        counter["n"] += 1
        line = scarce_line if counter["n"] % 4 == 0 else lines[counter["n"] % len(lines)]
        session.delete(f"{url}/cart/")
        added = session.post(f"{url}/cart/items/", json={**line, "quantity": 1})
        if added.status_code != 201:
            return added.status_code  # the scarce product ran out: counted as a refusal
        response = session.post(
            f"{url}/checkout/", json={"shipping_address": ADDRESS, "payment_method": "pm_card_visa"}
        )
        if response.status_code == 201 and response.json()["status"] != "paid":
            return 599
        return response.status_code

    requests.get(f"{url}/products/", timeout=10)  # warm up
    results = [
        hammer("add-to-cart", tokens, args.seconds, add_to_cart),
        hammer("checkout+pay", tokens, args.seconds, checkout_and_pay),
    ]

    stock = Variant.objects.get(pk=scarce_pk).stock
    sold = (OrderLine.objects.filter(variant_id=scarce_pk).aggregate(n=Sum("quantity"))["n"] or 0) - sold_before
    for result in results:
        statuses = ",".join(f"{status}:{n}" for status, n in sorted(result["failures"].items())) or "-"
        print(
            f"checkout {args.label} phase={result['name']} rps={result['per_second']:.1f} "
            f"p50={result['p50_ms']:.1f}ms p99={result['p99_ms']:.1f}ms ok={result['ok']} "
            f"refused={sum(result['failures'].values())} statuses={statuses}"
        )
    print(
        f"checkout {args.label} scarce_stock={SCARCE_STOCK} left={stock} sold={sold} "
        f"oversold={sold + stock != SCARCE_STOCK}"
    )
    if stock < 0 or sold + stock != SCARCE_STOCK:
        sys.exit("OVERSOLD")


if __name__ == "__main__":
    main()
