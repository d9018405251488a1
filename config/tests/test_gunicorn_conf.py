"""gunicorn.conf.py: worker recycling and preloading, each overridable by the environment."""

import runpy
from pathlib import Path

CONF = str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py")


def load(monkeypatch, **environ) -> dict:
    for name in ("GUNICORN_PRELOAD", "GUNICORN_MAX_REQUESTS", "GUNICORN_MAX_REQUESTS_JITTER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(CONF)


def test_defaults_preload_and_recycle_workers_with_a_wide_jitter(monkeypatch):
    conf = load(monkeypatch)

    assert conf["preload_app"] is True
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (5000, 2500)


def test_the_environment_overrides_each(monkeypatch):
    conf = load(monkeypatch, GUNICORN_PRELOAD="false", GUNICORN_MAX_REQUESTS="0", GUNICORN_MAX_REQUESTS_JITTER="7")

    assert conf["preload_app"] is False
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (0, 7)


def test_the_jitter_follows_the_bound_unless_set(monkeypatch):
    assert load(monkeypatch, GUNICORN_MAX_REQUESTS="2000")["max_requests_jitter"] == 1000


def test_pre_fork_closes_the_masters_database_and_cache_connections(monkeypatch):
    conf = load(monkeypatch)
    closed = []
    monkeypatch.setattr("django.db.connections.close_all", lambda: closed.append("database"))
    monkeypatch.setattr("django.core.cache.caches.close_all", lambda: closed.append("cache"))

    conf["pre_fork"](None, None)

    assert closed == ["database", "cache"]


def test_pre_fork_touches_nothing_without_preloading(monkeypatch):
    conf = load(monkeypatch, GUNICORN_PRELOAD="false")
    closed = []
    monkeypatch.setattr("django.db.connections.close_all", lambda: closed.append(True))

    conf["pre_fork"](None, None)

    assert closed == []


def test_when_ready_imports_the_urlconf_without_a_query(monkeypatch, db, django_assert_num_queries):
    conf = load(monkeypatch)
    with django_assert_num_queries(0):
        conf["when_ready"](None)
