"""A scaled-out Bazaar on one machine: two gunicorn app servers and a Celery worker sharing one
PostgreSQL database and one Redis, started for the session and stopped after it.

Needs PostgreSQL (INTEGRATION_DATABASE_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres)
and Redis (INTEGRATION_REDIS_URL, default redis://127.0.0.1:6379/11); everything listens on
127.0.0.1 only.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import redis
import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("INTEGRATION_DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("INTEGRATION_REDIS_URL", "redis://127.0.0.1:6379/11")
LOGIN_LIMIT = 5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    servers: list[str]
    mail_dir: Path
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)
    worker_log: Path | None = None

    def api(self, server: int, path: str) -> str:
        return f"{self.servers[server]}/api/v1/{path.lstrip('/')}"

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return result.stdout


def _services_answer() -> str | None:
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            pass
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001 - any failure means "not available here"
        return f"needs PostgreSQL at {ADMIN_URL} and Redis at {REDIS_URL}: {error}"
    return None


def _wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    for _ in range(150):
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still booting its workers
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def stack():
    reason = _services_answer()
    if reason:
        pytest.skip(reason)
    database = f"bazaar_it_{os.getpid()}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    redis.Redis.from_url(REDIS_URL).flushdb()
    workdir = Path(tempfile.mkdtemp(prefix="bazaar-it-"))
    mail_dir = workdir / "mail"
    mail_dir.mkdir()
    base_url = ADMIN_URL.rsplit("/", 1)[0]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "CELERY_"))},
        "ENV": "prod",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"{base_url}/{database}",
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": f"it-{os.getpid()}",
        "MEDIA_ROOT": str(workdir / "media"),
        "EMAIL_URL": f"filemail:///{mail_dir}",  # django-environ drops one leading slash of the path
        "LOG_FORMAT": "plain",
        "THROTTLE_LOGIN_IP_RATE": f"{LOGIN_LIMIT}/min",
        "THROTTLE_LOGIN_EMAIL_RATE": "100/min",
        "THROTTLE_REGISTER_IP_RATE": "1000/min",
        "THROTTLE_REGISTER_EMAIL_RATE": "1000/min",
        "THROTTLE_PASSWORD_RESET_IP_RATE": "1000/min",
        "THROTTLE_PASSWORD_RESET_EMAIL_RATE": "1000/min",
        "THROTTLE_ANON_RATE": "100000/min",
        "THROTTLE_USER_RATE": "100000/min",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_ACCESS_LOG": "/dev/null",
        "PYTHONUNBUFFERED": "1",
        # Named explicitly: production refuses to fall back to the simulated provider.
        "PAYMENT_PROVIDER": "simulated",
    }
    env.pop("STRIPE_SECRET_KEY", None)
    stack = Stack(servers=[], mail_dir=mail_dir, env=env)
    stack.manage("migrate", "--noinput", "-v0")
    stack.manage("collectstatic", "--noinput", "-v0")
    try:
        for index in range(2):
            port = free_port()
            log = workdir / f"web{index}.log"
            process = subprocess.Popen(
                [str(BIN / "gunicorn"), "config.wsgi", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            stack.processes.append(process)
            stack.servers.append(f"http://127.0.0.1:{port}")
            _wait_healthy(stack.servers[-1], process, log)
        worker_log = workdir / "worker.log"
        stack.processes.append(
            subprocess.Popen(
                [str(BIN / "celery"), "-A", "config", "worker", "-l", "info", "--concurrency", "2"],
                cwd=ROOT,
                env=env,
                stdout=worker_log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        stack.worker_log = worker_log
        yield stack
    finally:
        for process in stack.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in stack.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        redis.Redis.from_url(REDIS_URL).flushdb()
        shutil.rmtree(workdir, ignore_errors=True)
