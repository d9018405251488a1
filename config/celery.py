"""The Celery app: Bazaar's background work and its periodic schedule.

Configured from Django's settings under the ``CELERY_`` prefix (config/settings.py, "Background
work"). With a broker (``REDIS_URL`` or ``CELERY_BROKER_URL``) tasks are queued in Redis and run by
``make worker``, periodic ones sent by ``make beat``; without one, every task runs inline in the
process that queues it, so the embedded default needs no Redis. Tasks live in each app's
``tasks.py`` and are queued with ``apps.core.tasks.enqueue``.
"""

import os

from celery import Celery
from celery.signals import beat_init, celeryd_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("bazaar")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@celeryd_init.connect
@beat_init.connect
def _require_a_broker(**kwargs) -> None:
    """Without a broker, tasks run inline in the web process: a worker or beat would wait for
    messages that never come, so they refuse to start, saying what to set."""
    if app.conf.task_always_eager:
        # SystemExit: Celery logs and carries on after an ordinary exception in a signal handler.
        raise SystemExit("The worker and beat need a broker: set REDIS_URL (or CELERY_BROKER_URL).")
