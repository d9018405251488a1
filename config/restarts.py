"""One worker replaced at a time (gunicorn.conf.py's ``pre_request``).

gunicorn replaces a worker after ``max_requests`` plus a random jitter, which bounds what a leak
can take. Each worker decides alone, so two can reach their bound in the same second: with both
gone, nothing accepts until the master has forked their replacements, and every request waiting
meanwhile pays for it (measured: p99 406 ms in a run where both workers of two restarted
together, 26-87 ms in the 24 runs where they did not; bench/README.md). So a worker about to
retire first claims the pool's last retirement, under a file lock shared by the workers of one
master: when a sibling retired less than ``spacing`` seconds ago it keeps serving and asks again
after a few more requests.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Callable

# Requests a postponed worker serves before it asks again.
POSTPONE_REQUESTS = 50


def restarts_file(master_pid: int) -> str:
    """The file the workers of one gunicorn master share: the time of their last retirement."""
    return os.path.join(tempfile.gettempdir(), f"bazaar-gunicorn-{master_pid}.retired")


def retirement_claim(path: str, *, spacing: float, clock: Callable[[], float] = time.time) -> bool:
    """Whether the calling worker may retire now: no sibling retired in the last ``spacing``
    seconds. A granted claim is recorded (under the lock, so two workers asking together are
    answered one after the other)."""
    with open(path, "a+", encoding="ascii") as shared:
        fcntl.flock(shared, fcntl.LOCK_EX)  # released when the file closes
        shared.seek(0)
        try:
            last = float(shared.read().strip() or 0)
        except ValueError:  # torn or foreign content: as if none retired
            last = 0.0
        now = clock()
        if 0 <= now - last < spacing:
            return False
        shared.seek(0)
        shared.truncate()
        shared.write(repr(now))
        shared.flush()
        return True


def spaced_retirement(worker, *, spacing: float, clock: Callable[[], float] = time.time) -> None:
    """Before a request (gunicorn's ``pre_request``): when this request would make ``worker``
    retire and a sibling retired less than ``spacing`` seconds ago, raise its bound by
    POSTPONE_REQUESTS instead."""
    if spacing <= 0 or worker.nr + 1 < worker.max_requests:
        return
    try:
        granted = retirement_claim(restarts_file(worker.ppid), spacing=spacing, clock=clock)
    except OSError:  # no usable temporary directory: gunicorn's own behaviour
        worker.log.warning("worker restart spacing unavailable", exc_info=True)
        return
    if not granted:
        worker.max_requests = worker.nr + 1 + POSTPONE_REQUESTS
