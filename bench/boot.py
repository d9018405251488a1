"""What a gunicorn worker's (re)start costs before it answers, with and without ``preload_app``.

    DJANGO_SETTINGS_MODULE=bench.settings ENV=prod DATABASE_URL=... .venv/bin/python bench/boot.py

Two measurements, each in fresh processes, ``--runs`` times (medians printed):

- cold (``preload_app = False``, gunicorn's default): a new interpreter imports ``config.wsgi``
  (Django set up, every app, the urlconf, the middleware) and serves its first request;
- forked (``preload_app = True``): a parent imports ``config.wsgi`` once, as gunicorn's master
  does with preloading, runs gunicorn.conf.py's ``when_ready`` and ``pre_fork`` hooks and forks; the child serves its
  first request. This is what a recycled worker costs then.

The request is the product list's first page through the WSGI application (the whole middleware
stack, DRF, the database), then a second one, for the steady cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = r"""
import io, json, os, sys, time
started = time.perf_counter()
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
from config.wsgi import application
imported = time.perf_counter()

def call(path):
    environ = {{"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "SERVER_PROTOCOL": "HTTP/1.1"}}
    status = []
    body = b"".join(application(environ, lambda s, h, e=None: status.append(s)))
    assert status[0].startswith("200"), (status, body[:200])

def first_requests():
    begin = time.perf_counter()
    call({path!r})
    first = time.perf_counter()
    call({path!r})
    return first - begin, time.perf_counter() - first

if {forked!r}:
    import runpy
    hooks = runpy.run_path(os.path.join({root!r}, "gunicorn.conf.py"))
    if hooks.get("preload_app") and "when_ready" in hooks:
        hooks["when_ready"](None)
    if "pre_fork" in hooks:
        hooks["pre_fork"](None, None)
    from django.db import connections
    assert all(c.connection is None for c in connections.all(initialized_only=True)), "open DB connection before fork"
    reader, writer = os.pipe()
    forked_at = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        if "post_fork" in hooks:
            hooks["post_fork"](None, None)
        first, second = first_requests()
        os.write(writer, json.dumps({{"fork_ms": (time.perf_counter() - forked_at - first - second) * 1000,
                                     "first_ms": first * 1000, "second_ms": second * 1000}}).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    print(os.read(reader, 4096).decode())
else:
    first, second = first_requests()
    print(json.dumps({{"import_ms": (imported - started) * 1000, "first_ms": first * 1000,
                      "second_ms": second * 1000}}))
"""


def run(forked: bool, path: str) -> dict:
    code = CHILD.format(root=str(ROOT), path=path, forked=forked)
    started = time.perf_counter()
    command = [sys.executable, "-c", code]  # this interpreter, running the code above
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)  # noqa: S603
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not forked:
        result["process_ms"] = (time.perf_counter() - started) * 1000  # interpreter start included
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--path", default="/api/v1/products/")
    args = parser.parse_args()
    for forked in (False, True):
        results = [run(forked, args.path) for _ in range(args.runs)]
        medians = {key: statistics.median(r[key] for r in results) for key in results[0]}
        name = "forked from a preloaded parent" if forked else "cold (no preload)"
        until = medians.get("import_ms", 0) + medians["first_ms"]
        print(f"{name:32} " + "  ".join(f"{key}={value:.0f}" for key, value in medians.items()), end="")
        print(f"  -> first answer after {until:.0f} ms" + (" (+ interpreter start)" if not forked else ""))


if __name__ == "__main__":
    main()
