"""A gunicorn worker's memory (RSS) over many mixed catalogue reads (issue 14: < 150 MB after 100,000).

    bench/memory.py --requests 100000                       # starts its own gunicorn (1 worker)
    bench/memory.py --requests 20000 --database bazaar_bench_10k

Starts ``gunicorn config.wsgi --config gunicorn.conf.py`` with one sync worker and worker
recycling off (``GUNICORN_MAX_REQUESTS=0``: the point is to see whether a worker grows), production
settings as bench/lib.sh sets them (``ENV=prod``, no Redis: every read computed), on
``--database``. Then sends ``--requests`` GET requests over ``--connections`` keep-alive
connections, a fixed random mix (``--seed``): product list pages 1-50 (a quarter with a random
ordering), details of 200 products, searches for one or two words of product names, and every
category filter. Reads VmRSS (and VmHWM, the peak) of the worker from /proc/<pid>/status after
warming up and at every tenth of the run; prints one line each and a summary. Exit status 1 if a
request failed or the final RSS is over ``--limit`` MB.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent


def status_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def serve(args) -> subprocess.Popen:
    env = {
        **os.environ,
        "ENV": "prod",
        "DEBUG": "false",
        "THROTTLE_DISABLED": "true",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_FORMAT": "plain",
        "PAYMENT_PROVIDER": "simulated",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "GUNICORN_ACCESS_LOG": "/dev/null",
        "GUNICORN_MAX_REQUESTS": "0",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "1",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(64),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "EMAIL_URL": "dummymail://",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
    }
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn, "config.wsgi", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{args.port}"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def worker_pid(master: int) -> int:
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise SystemExit("gunicorn started no worker")


def get(connection: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read()


def paths(args, connection) -> list[str]:
    """The request mix, drawn once from what the catalogue holds."""
    rng = random.Random(args.seed)  # noqa: S311 - a repeatable mix, not a secret
    products = []
    for page in range(1, 11):
        status, body = get(connection, f"/api/v1/products/?page={page}&page_size=20")
        products += json.loads(body)["results"] if status == 200 else []
    slugs = [product["slug"] for product in products]
    words = sorted({word.lower() for product in products for word in product["name"].split() if word.isalpha()})
    status, body = get(connection, "/api/v1/categories/")
    categories = [category["slug"] for category in json.loads(body)]
    orderings = ["price", "-price", "name", "-name", "created_at", "-created_at"]
    mix = []
    for _ in range(2000):
        kind = rng.random()
        if kind < 0.35:
            path = f"/api/v1/products/?page={rng.randint(1, 50)}"
            if rng.random() < 0.25:
                path += f"&ordering={rng.choice(orderings)}"
        elif kind < 0.65:
            path = f"/api/v1/products/{rng.choice(slugs)}/"
        elif kind < 0.85:
            terms = " ".join(rng.sample(words, rng.choice((1, 2))))
            path = f"/api/v1/products/?search={quote(terms)}"
        else:
            path = f"/api/v1/products/?category={rng.choice(categories)}&page={rng.randint(1, 5)}"
        mix.append(path)
    return mix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--database", default="bazaar_bench_10k")
    parser.add_argument("--port", type=int, default=8841)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--limit", type=float, default=150.0, help="MB")
    args = parser.parse_args()

    server = serve(args)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        for _ in range(100):
            try:
                get(connection, "/healthz")
                break
            except OSError:
                connection.close()
                time.sleep(0.2)
        pid = worker_pid(server.pid)
        mix = paths(args, connection)
        for path in mix[:200]:  # warm up: connections, caches, lazy imports
            get(connection, path)
        start = status_kb(pid)
        print(f"worker {pid}: after warm-up RSS {start['VmRSS'] / 1024:.1f} MB", flush=True)

        sent = [0]
        failures: list[str] = []
        lock = threading.Lock()
        checkpoints = {round(args.requests * n / 10) for n in range(1, 11)}
        started = time.perf_counter()

        def client(offset: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
            position = offset
            while True:
                with lock:
                    if sent[0] >= args.requests:
                        return
                    sent[0] += 1
                    number = sent[0]
                path = mix[position % len(mix)]
                position += args.connections
                status, _ = get(connection, path)
                if status != 200:
                    failures.append(f"{status} {path}")
                if number in checkpoints:
                    rss = status_kb(pid)
                    rate = number / (time.perf_counter() - started)
                    print(
                        f"  {number:>7} requests: RSS {rss['VmRSS'] / 1024:6.1f} MB, peak {rss['VmHWM'] / 1024:6.1f} MB"
                        f" ({rate:.0f} req/s)",
                        flush=True,
                    )

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        end = status_kb(pid)
        growth = (end["VmRSS"] - start["VmRSS"]) / 1024
        print(
            f"after {args.requests} requests: RSS {end['VmRSS'] / 1024:.1f} MB (+{growth:.1f} MB since warm-up), "
            f"peak {end['VmHWM'] / 1024:.1f} MB; {len(failures)} failed"
        )
        for failure in failures[:10]:
            print(f"  failed: {failure}")
        if failures or end["VmRSS"] / 1024 > args.limit:
            sys.exit(1)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
