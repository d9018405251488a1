"""One gunicorn worker replaced at a time (config/restarts.py, gunicorn.conf.py's pre_request)."""

import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from config import restarts

CONF = str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py")


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def worker(*, nr: int, max_requests: int = 100, ppid: int = 4242):
    return SimpleNamespace(nr=nr, max_requests=max_requests, ppid=ppid, log=logging.getLogger("test"))


@pytest.fixture(autouse=True)
def _own_tmp(monkeypatch, tmp_path):
    monkeypatch.setattr(restarts.tempfile, "gettempdir", lambda: str(tmp_path))


def test_two_workers_reaching_their_bound_together_retire_one_after_the_other():
    clock = Clock()
    first, second = worker(nr=99), worker(nr=99)

    restarts.spaced_retirement(first, spacing=3, clock=clock)
    restarts.spaced_retirement(second, spacing=3, clock=clock)

    assert first.max_requests == 100  # this request is its last
    assert second.max_requests == 99 + 1 + restarts.POSTPONE_REQUESTS  # serves on

    second.nr = second.max_requests - 1
    clock.now += 2.9  # the sibling's replacement may not be serving yet
    restarts.spaced_retirement(second, spacing=3, clock=clock)
    assert second.max_requests == second.nr + 1 + restarts.POSTPONE_REQUESTS

    second.nr = second.max_requests - 1
    clock.now += 0.2
    bound = second.max_requests
    restarts.spaced_retirement(second, spacing=3, clock=clock)
    assert second.max_requests == bound  # 3.1 s after the first: it retires now


def test_a_worker_below_its_bound_asks_nothing(tmp_path):
    restarts.spaced_retirement(worker(nr=50), spacing=3, clock=Clock())
    assert not list(tmp_path.iterdir())


def test_the_pools_of_two_masters_do_not_space_each_other():
    clock = Clock()
    one, other = worker(nr=99, ppid=1), worker(nr=99, ppid=2)
    restarts.spaced_retirement(one, spacing=3, clock=clock)
    restarts.spaced_retirement(other, spacing=3, clock=clock)
    assert (one.max_requests, other.max_requests) == (100, 100)


def test_unreadable_content_or_a_clock_set_back_never_keeps_a_worker_forever(tmp_path):
    Path(restarts.restarts_file(7)).write_text("garbage")
    assert restarts.retirement_claim(restarts.restarts_file(7), spacing=3, clock=Clock()) is True
    assert restarts.retirement_claim(restarts.restarts_file(7), spacing=3, clock=Clock(5.0)) is True


def test_no_spacing_leaves_gunicorns_behaviour(tmp_path):
    alone = worker(nr=99)
    restarts.spaced_retirement(worker(nr=99), spacing=3, clock=Clock())
    restarts.spaced_retirement(alone, spacing=0, clock=Clock())
    assert alone.max_requests == 100


def test_gunicorn_conf_spaces_replacements_by_default_and_its_master_removes_the_file(monkeypatch, tmp_path):
    monkeypatch.delenv("GUNICORN_RESTART_SPACING", raising=False)
    conf = runpy.run_path(CONF)
    assert conf["restart_spacing"] == 3
    first, second = worker(nr=4999, max_requests=5000), worker(nr=5999, max_requests=6000)

    conf["pre_request"](first, None)
    conf["pre_request"](second, None)

    assert (first.max_requests, second.max_requests) == (5000, 6000 + restarts.POSTPONE_REQUESTS)
    monkeypatch.setattr("os.getpid", lambda: 4242)
    conf["on_exit"](None)
    assert not list(tmp_path.iterdir())


def test_the_environment_sets_the_spacing(monkeypatch):
    monkeypatch.setenv("GUNICORN_RESTART_SPACING", "0")
    conf = runpy.run_path(CONF)
    first, second = worker(nr=99), worker(nr=99)
    conf["pre_request"](first, None)
    conf["pre_request"](second, None)
    assert (first.max_requests, second.max_requests) == (100, 100)
