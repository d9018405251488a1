"""Request ids, JSON logs, the gunicorn access line and Sentry's scrubber (apps/core/observability.py)."""

import io
import json
import logging
import os
import re
import runpy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import OperationalError
from gunicorn.config import Config
from gunicorn.glogging import Logger

from apps.core.observability import JsonLogFormatter, RequestIdLogFilter, sentry_before_send

ROOT = Path(__file__).resolve().parents[3]
KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")
HEX_UUID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def json_log():
    """Capture the root logger's records as the production handler writes them: JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    handler.addFilter(RequestIdLogFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


# --- Request ids -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_request_without_an_id_gets_a_new_uuid4_hex(api_client):
    response = api_client.get("/healthz")

    assert HEX_UUID.match(response["X-Request-ID"])


@pytest.mark.django_db
def test_every_request_gets_its_own_id(api_client):
    first, second = api_client.get("/healthz"), api_client.get("/healthz")

    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", ["abc-123", "Root=1-5759e988-bd862e3fe1be46a994272793", "x" * 200])
def test_a_valid_incoming_request_id_is_kept(api_client, incoming):
    response = api_client.get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] == incoming


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", ["x" * 201, "bad\x07bell", "ünïcode", "   "])
def test_an_invalid_incoming_request_id_is_replaced(api_client, incoming):
    response = api_client.get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert HEX_UUID.match(response["X-Request-ID"])


@pytest.mark.django_db
def test_an_error_response_carries_the_request_id_too(api_client):
    response = api_client.get("/api/v1/nowhere/", HTTP_X_REQUEST_ID="trace-404")

    assert response.status_code == 404
    assert response["X-Request-ID"] == "trace-404"


# --- JSON logs -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_log_records_written_during_a_request_are_json_with_its_id(api_client, monkeypatch, json_log):
    def unreachable(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("django.db.backends.base.base.BaseDatabaseWrapper.cursor", unreachable)

    api_client.get("/healthz", HTTP_X_REQUEST_ID="trace-health")

    [record] = [line for line in json_log() if line["logger"] == "apps.core.apis"]
    assert record["level"] == "ERROR"
    assert record["message"] == "health check: database unreachable"
    assert record["request_id"] == "trace-health"
    assert "OperationalError: could not connect to server" in record["exc_info"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00$", record["time"])


def test_records_outside_a_request_have_a_dash_for_request_id(json_log):
    logging.getLogger("apps.somewhere").warning("no request here")

    [record] = json_log()
    assert record == {
        "level": "WARNING",
        "logger": "apps.somewhere",
        "message": "no request here",
        "request_id": "-",
        "time": record["time"],
    }


def run_django(code: str, **variables: str) -> subprocess.CompletedProcess:
    environment = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", ENV="test", **variables)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_log_format_json_writes_one_json_object_per_line():
    result = run_django("import logging; logging.getLogger('bazaar').warning('hello %s', 'json')", LOG_FORMAT="json")

    assert result.returncode == 0, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert json.loads(line) | {"time": "t"} == {
        "level": "WARNING",
        "logger": "bazaar",
        "message": "hello json",
        "request_id": "-",
        "time": "t",
    }


def test_log_format_plain_writes_readable_lines_with_the_request_id():
    result = run_django("import logging; logging.getLogger('bazaar').warning('hello plain')", LOG_FORMAT="plain")

    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().endswith("WARNING bazaar [-] hello plain")


def test_an_unknown_log_format_refuses_to_start():
    result = run_django("pass", LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "LOG_FORMAT='xml' is not one of: json, plain." in result.stderr


# --- gunicorn's access line --------------------------------------------------------------------


def test_the_gunicorn_access_line_ends_with_the_request_id():
    config = Config()
    config.set("access_log_format", runpy.run_path(str(ROOT / "gunicorn.conf.py"))["access_log_format"])
    logger = Logger(config)
    response = SimpleNamespace(status="200 OK", headers=[("X-Request-ID", "trace-7")], sent=17)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/healthz", "SERVER_PROTOCOL": "HTTP/1.1"}

    atoms = logger.atoms_wrapper_class(logger.atoms(response, [], environ, timedelta(milliseconds=12)))
    line = config.access_log_format % atoms

    assert line.endswith('"GET /healthz HTTP/1.1" 200 17 "-" "-" 0.012000 trace-7')


def test_gunicorn_access_records_in_json_carry_the_request_id_and_the_request_as_fields():
    config = Config()
    config.set("access_log_format", runpy.run_path(str(ROOT / "gunicorn.conf.py"))["access_log_format"])
    logger = Logger(config)
    response = SimpleNamespace(status="201 Created", headers=[("X-Request-ID", "trace-8")], sent=42)
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/api/v1/checkout/",
        "PATH_INFO": "/api/v1/checkout/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.7",
    }
    atoms = logger.atoms_wrapper_class(logger.atoms(response, [], environ, timedelta(milliseconds=250)))
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, config.access_log_format, (atoms,), None)

    line = json.loads(JsonLogFormatter().format(record))

    assert line | {"time": "t"} == {
        "level": "INFO",
        "logger": "gunicorn.access",
        "message": line["message"],
        "request_id": "trace-8",
        "remote_addr": "10.0.0.7",
        "method": "POST",
        "path": "/api/v1/checkout/",
        "status": 201,
        "bytes": 42,
        "duration_seconds": 0.25,
        "time": "t",
    }
    assert line["message"].startswith("10.0.0.7 - - [")


@pytest.mark.parametrize(("variables", "json_logs"), [({"LOG_FORMAT": "json"}, True), ({"LOG_FORMAT": "plain"}, False)])
def test_gunicorn_logs_json_when_log_format_is_json(monkeypatch, variables, json_logs):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))

    assert ("logconfig_dict" in config) is json_logs
    if json_logs:
        formatter = config["logconfig_dict"]["formatters"]["json"]["()"]
        assert formatter == "apps.core.observability.JsonLogFormatter"


# --- Sentry ------------------------------------------------------------------------------------


def test_sentry_events_lose_credentials_and_bodies_and_gain_the_request_id(monkeypatch):
    monkeypatch.setattr("apps.core.observability.current_request_id", lambda: "trace-9")
    event = {
        "request": {
            "url": "https://bazaar.example.com/api/v1/checkout/",
            "headers": {"Authorization": "Bearer secret", "Cookie": "sessionid=s", "User-Agent": "curl"},
            "data": {"password": "hunter2hunter2"},
            "cookies": {"sessionid": "s"},
        },
        "tags": {"app": "web"},
    }

    scrubbed = sentry_before_send(event, {})

    assert scrubbed["request"] == {
        "url": "https://bazaar.example.com/api/v1/checkout/",
        "headers": {"Authorization": "[Filtered]", "Cookie": "[Filtered]", "User-Agent": "curl"},
        "data": "[Filtered]",
        "cookies": "[Filtered]",
    }
    assert scrubbed["tags"] == {"app": "web", "request_id": "trace-9"}


def test_sentry_starts_with_the_django_integration_and_the_scrubber_when_a_dsn_is_set():
    result = run_django(
        "import sentry_sdk; client = sentry_sdk.get_client(); "
        "print(sorted(client.integrations)); print(client.options['before_send'].__name__)",
        SENTRY_DSN="https://public@sentry.example.invalid/1",
    )

    assert result.returncode == 0, result.stderr
    integrations, before_send = result.stdout.strip().splitlines()
    assert "'django'" in integrations
    assert before_send == "sentry_before_send"
