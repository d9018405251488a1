"""gunicorn settings for `make serve` and production; every value can be overridden by env.

Like Django's settings, this reads `.env.<ENV>` under the real environment (config/env.py).
"""

import contextlib
import multiprocessing
import os
from pathlib import Path

from config import env as env_loader
from config.restarts import restarts_file, spaced_retirement

ENV, env = env_loader.load(Path(__file__).resolve().parent)

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Load Django once in the master and fork the workers from it (GUNICORN_PRELOAD=false: each worker
# imports the project itself). A recycled worker then answers within milliseconds instead of
# spending ~0.5 s importing Django and the apps while its share of requests queues; the
# workers also share the imported code's memory pages. The master never opens a database or
# cache connection: `pre_fork` closes any before each fork. Caveat: with preloading, SIGHUP
# reloads the configuration but not the code; deploy new code with a restart (or USR2).
preload_app = env.bool("GUNICORN_PRELOAD", default=True)
# Each worker is replaced after max_requests + a random 0..jitter requests (0: never), which bounds
# the memory a leak could take; the jitter keeps the workers from restarting together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", str(max_requests // 2)))
# Seconds between two workers' replacements: a worker reaching its bound less than this after a
# sibling retired serves a few more requests first (config/restarts.py); 0 lets them coincide.
restart_spacing = float(os.environ.get("GUNICORN_RESTART_SPACING", "3"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# The common log format plus duration (seconds) and the request id the app answered with, so an
# access line can be matched with the application's log records.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(L)s %({x-request-id}o)s'
errorlog = "-"
# LOG_FORMAT=json (the default in prod): gunicorn's own lines are JSON objects too, the access
# records with request_id, method, path, status and duration as fields (apps/core/observability.py).
if env.str("LOG_FORMAT", default="json" if ENV == "prod" else "plain") == "json":
    logconfig_dict = {
        "filters": {"request_id": {"()": "apps.core.observability.RequestIdLogFilter"}},
        "formatters": {"json": {"()": "apps.core.observability.JsonLogFormatter"}},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
                "stream": "ext://sys.stdout",
            },
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            },
        },
    }
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def when_ready(server):
    """With preloading: import what Django otherwise imports at a worker's first request (the
    urlconf, and through it every view, serializer and filter), once, in the master, so a new
    worker starts with them. No request is made and no connection is opened."""
    if preload_app:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - imports the urlconf
        get_resolver()._populate()


def pre_request(worker, req):
    """Replace one worker at a time (config/restarts.py)."""
    spaced_retirement(worker, spacing=restart_spacing)


def pre_fork(server, worker):
    """A forked worker must not share a database or Redis connection with the master or its
    siblings: close any the master holds (it should hold none) before forking."""
    if preload_app:
        from django.core.cache import caches
        from django.db import connections

        connections.close_all()
        caches.close_all()


def on_exit(server):
    """The master's last act: remove the file its workers spaced their replacements with."""
    with contextlib.suppress(OSError):
        os.remove(restarts_file(os.getpid()))


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the shared Prometheus directory (multi-process mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
