"""Checkout load: add to cart per second, and checkout + pay per second, with N concurrent
buyers against a running server; then checks that nothing was oversold.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=... .venv/bin/python bench/checkout.py \
        --base http://127.0.0.1:8811 --buyers 16 --seconds 10

Checkout + pay is, per buyer in a loop: add one variant to the cart, then POST /checkout/ paying
with pm_card_visa (two requests per paid order; the cart is emptied first only after a refusal,
or before every order with ``--empty-cart-each-time``, as the figures before issue 14 were taken).

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
# The statements of an add to cart and of a one-line checkout + pay, less the user's read that
# authentication does (tests pin them: apps/cart/tests, apps/checkout/tests): the floor phase's.
FLOOR_ADD_STATEMENTS = 7
FLOOR_CHECKOUT_STATEMENTS = 31


def buyers_with_tokens(count: int) -> list[str]:
    tokens = []
    for index in range(count):
        user, _ = User.objects.get_or_create(email=f"bench-buyer-{index}@bench.test")
        CartItem.objects.filter(cart__user=user).delete()
        tokens.append(str(RefreshToken.for_user(user).access_token))
    return tokens


TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


class CpuMeter:
    """CPU seconds spent during a phase by the app server (``--server-pid``: gunicorn's master and
    its workers), by PostgreSQL's backends of this database (not ours), and by this load generator:
    what a paid order costs the machine, whatever else runs on it."""

    def __init__(self, server_pid: int | None):
        self.server_pid = server_pid

    def _sample(self) -> dict[str, dict[int, float]]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            backends = [row[0] for row in cursor.fetchall()]
        server = [self.server_pid, *_children(self.server_pid)] if self.server_pid else []
        return {
            "server": {pid: _cpu_seconds(pid) for pid in server},
            "database": {pid: _cpu_seconds(pid) for pid in backends},
        }

    def __enter__(self):
        self.before, self.client = self._sample(), time.process_time()
        return self

    def __exit__(self, *exc):
        after = self._sample()
        self.seconds = {
            part: sum(cpu - self.before[part].get(pid, 0.0) for pid, cpu in after[part].items()) for part in after
        }
        self.seconds["client"] = time.process_time() - self.client
        return False


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
    parser.add_argument(
        "--server-pid",
        type=int,
        help="gunicorn's master pid: also print the CPU each phase cost per successful request "
        "(server, database backends, this client), a figure the machine's other load does not change much.",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also run the floor phase (needs bench.urls): per buyer, two POSTs to /bench/floor/ with the add's "
        "and the checkout's bodies and statement counts, statements compiled by hand (no ORM, no serializer); "
        "printed with the checkout phase's database CPU: the most paid orders a second this stack could reach.",
    )
    parser.add_argument(
        "--empty-cart-each-time",
        action="store_true",
        help="DELETE the cart before every checkout, as before issue 14 (three requests per order, not two).",
    )
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
    # A buyer whose last checkout was placed has an empty cart (checkout empties it): only after a
    # refusal (the scarce variant ran out between adding and paying) is there a line to clear.
    leftover = [True] * args.buyers

    def checkout_and_pay(session: requests.Session, index: int) -> int:
        counter["n"] += 1
        line = scarce_line if counter["n"] % 4 == 0 else lines[counter["n"] % len(lines)]
        if leftover[index] or args.empty_cart_each_time:
            session.delete(f"{url}/cart/")
            leftover[index] = False
        added = session.post(f"{url}/cart/items/", json={**line, "quantity": 1})
        if added.status_code != 201:
            return added.status_code  # the scarce product ran out: counted as a refusal
        response = session.post(
            f"{url}/checkout/", json={"shipping_address": ADDRESS, "payment_method": "pm_card_visa"}
        )
        if response.status_code != 201:
            leftover[index] = True
        elif response.json()["status"] != "paid":
            return 599
        return response.status_code

    def floor(session: requests.Session, index: int) -> int:
        floor_url = f"{args.base}/bench/floor/?statements="
        added = session.post(f"{floor_url}{FLOOR_ADD_STATEMENTS}", json={**lines[0], "quantity": 1})
        if added.status_code != 201:
            return added.status_code
        body = {"shipping_address": ADDRESS, "payment_method": "pm_card_visa"}
        return session.post(f"{floor_url}{FLOOR_CHECKOUT_STATEMENTS}", json=body).status_code

    requests.get(f"{url}/products/", timeout=10)  # warm up
    results = []
    phases = [("add-to-cart", add_to_cart), ("checkout+pay", checkout_and_pay)]
    if args.floor:
        phases.append(("floor", floor))
    for name, step in phases:
        with CpuMeter(args.server_pid) as meter:
            result = hammer(name, tokens, args.seconds, step)
        result["cpu"] = meter.seconds
        results.append(result)

    stock = Variant.objects.get(pk=scarce_pk).stock
    sold = (OrderLine.objects.filter(variant_id=scarce_pk).aggregate(n=Sum("quantity"))["n"] or 0) - sold_before
    for result in results:
        statuses = ",".join(f"{status}:{n}" for status, n in sorted(result["failures"].items())) or "-"
        print(
            f"checkout {args.label} phase={result['name']} rps={result['per_second']:.1f} "
            f"p50={result['p50_ms']:.1f}ms p99={result['p99_ms']:.1f}ms ok={result['ok']} "
            f"refused={sum(result['failures'].values())} statuses={statuses}"
        )
        if args.server_pid and result["ok"]:
            per = {part: seconds * 1000 / result["ok"] for part, seconds in result["cpu"].items()}
            print(
                f"checkout {args.label} phase={result['name']} cpu_ms_per_ok: server={per['server']:.1f} "
                f"database={per['database']:.1f} client={per['client']:.1f} total={sum(per.values()):.1f} "
                f"(2 cores: at most {2000 / sum(per.values()):.0f}/s)"
            )
    if args.floor and args.server_pid and results[2]["ok"] and results[1]["ok"]:
        floor_ok, paid = results[2], results[1]
        per = {part: seconds * 1000 / floor_ok["ok"] for part, seconds in floor_ok["cpu"].items()}
        database = paid["cpu"]["database"] * 1000 / paid["ok"]
        total = per["server"] + per["client"] + database
        print(
            f"checkout {args.label} phase=floor cpu_ms_per_paid_order: server={per['server']:.1f} "
            f"client={per['client']:.1f} + checkout+pay's database={database:.1f} total={total:.1f} "
            f"(2 cores: at most {2000 / total:.0f} paid orders/s with no ORM or serializer work at all)"
        )
    print(
        f"checkout {args.label} scarce_stock={SCARCE_STOCK} left={stock} sold={sold} "
        f"oversold={sold + stock != SCARCE_STOCK}"
    )
    if stock < 0 or sold + stock != SCARCE_STOCK:
        sys.exit("OVERSOLD")


if __name__ == "__main__":
    main()
