"""Reads to the replica, writes and reads after a write to the primary (apps/core/db_router.py)."""

import copy
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.db import connections, transaction

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Product
from apps.core.db_router import PRIMARY, REPLICA, PrimaryReplicaRouter, db_routing_scope, is_pinned_to_primary

ROOT = Path(__file__).resolve().parents[3]
router = PrimaryReplicaRouter()


# --- The decisions ---------------------------------------------------------------------------


def test_reads_go_to_the_replica_outside_a_transaction():
    with db_routing_scope():
        assert router.db_for_read(Product) == REPLICA


@pytest.mark.django_db
def test_reads_inside_a_transaction_go_to_the_primary():
    with db_routing_scope(), transaction.atomic():
        assert connections[PRIMARY].in_atomic_block
        assert router.db_for_read(Product) == PRIMARY


def test_the_staff_logins_counters_and_sessions_are_always_read_from_the_primary():
    with db_routing_scope():
        assert router.db_for_read(AccessAttempt) == PRIMARY
        assert router.db_for_read(Session) == PRIMARY
        assert router.db_for_read(Product) == REPLICA


def test_writes_go_to_the_primary_and_pin_the_rest_of_the_scope_to_it():
    with db_routing_scope():
        assert router.db_for_write(Product) == PRIMARY

        assert is_pinned_to_primary()
        assert router.db_for_read(Product) == PRIMARY
        assert router.db_for_read(User) == PRIMARY


def test_a_new_scope_reads_from_the_replica_again_and_the_outer_pin_comes_back():
    with db_routing_scope():
        router.db_for_write(Product)
        with db_routing_scope():
            assert router.db_for_read(Product) == REPLICA
        assert router.db_for_read(Product) == PRIMARY


def test_relations_across_the_aliases_are_allowed_and_migrations_run_on_the_primary_only():
    assert router.allow_relation(object(), object()) is True
    assert router.allow_migrate(PRIMARY, "catalog") is True
    assert router.allow_migrate(REPLICA, "catalog") is False


def test_without_a_replica_url_no_router_is_installed(settings):
    if settings.DATABASE_REPLICA_URL:
        pytest.skip("DATABASE_REPLICA_URL is set for this run")

    assert "replica" not in settings.DATABASES
    assert settings.DATABASE_ROUTERS == []


# --- A real replica alias: a second connection to the same PostgreSQL test database -----------


@pytest.fixture
def replica(transactional_db, settings):
    """Configure the ``replica`` alias as settings do with DATABASE_REPLICA_URL, on the test
    database (a mirror, as ``TEST: {"MIRROR": "default"}`` makes it), and install the router."""
    if connections[PRIMARY].vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two real connections to one database")
    added = REPLICA not in connections.settings
    if added:
        config = copy.deepcopy(connections[PRIMARY].settings_dict)
        config["TEST"] = {"MIRROR": PRIMARY}
        connections.settings[REPLICA] = config
    settings.DATABASE_ROUTERS = ["apps.core.db_router.PrimaryReplicaRouter"]
    # The test case only allows the aliases it knew when it started; connecting directly (not
    # through ensure_connection, which it guards) opens the alias added here.
    connections[REPLICA].connect()
    yield connections[REPLICA]
    if added:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


@contextmanager
def queries_by_alias():
    """Every statement run on either alias, in order, as (alias, first keyword)."""
    log: list[tuple[str, str]] = []

    def recorder(alias):
        def record(execute, sql, params, many, context):
            log.append((alias, sql.split(None, 1)[0].upper()))
            return execute(sql, params, many, context)

        return record

    with (
        connections[PRIMARY].execute_wrapper(recorder(PRIMARY)),
        connections[REPLICA].execute_wrapper(recorder(REPLICA)),
    ):
        yield log


@pytest.mark.postgres
def test_orm_reads_use_the_replica_until_a_write_then_the_primary(replica):
    existing = UserFactory(email="ann@example.com")

    with db_routing_scope(), queries_by_alias() as log:
        assert User.objects.get(email="ann@example.com") == existing
        assert log == [(REPLICA, "SELECT")]

        UserFactory(email="bob@example.com")
        assert User.objects.filter(email="bob@example.com").exists()
        assert all(alias == PRIMARY for alias, _ in log[1:])
        assert (PRIMARY, "INSERT") in log

    with db_routing_scope(), queries_by_alias() as log:
        assert User.objects.count() == 2  # a fresh scope sees the committed write through the replica
        with transaction.atomic():
            User.objects.select_for_update().filter(email="ann@example.com").exists()
            assert User.objects.count() == 2

    assert [alias for alias, _ in log] == [REPLICA, PRIMARY, PRIMARY]


@pytest.mark.postgres
def test_a_read_only_request_is_served_by_the_replica(replica, api_client):
    with queries_by_alias() as log:
        response = api_client.get("/api/v1/stores/")

    assert response.status_code == 200
    assert log
    assert {alias for alias, _ in log} == {REPLICA}


@pytest.mark.postgres
def test_a_request_reads_the_primary_after_it_wrote(replica, client_for):
    client = client_for(UserFactory(first_name="Ann"))

    with queries_by_alias() as log:
        response = client.patch("/api/v1/users/me/", {"first_name": "Anna"})

    assert response.status_code == 200
    assert response.json()["first_name"] == "Anna"
    first_on_primary = next(index for index, (alias, _) in enumerate(log) if alias == PRIMARY)
    assert log[0] == (REPLICA, "SELECT")  # authentication, before anything was written
    assert all(alias == REPLICA for alias, _ in log[:first_on_primary])
    assert all(alias == PRIMARY for alias, _ in log[first_on_primary:])
    assert (PRIMARY, "UPDATE") in log

    with queries_by_alias() as log:
        assert client.get("/api/v1/users/me/").json()["first_name"] == "Anna"

    assert {alias for alias, _ in log} == {REPLICA}  # the next request starts on the replica again


@pytest.mark.postgres
def test_healthz_reports_a_live_replica(replica, api_client):
    response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["replica"] == "ok"


def _settings_of(extra_env: dict, expression: str) -> object:
    result = subprocess.run(
        [sys.executable, "-c", f"import json; from django.conf import settings; print(json.dumps({expression}))"],
        cwd=ROOT,
        env={
            "PATH": os.environ.get("PATH", ""),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "ENV": "test",
            **extra_env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("prepared", "options"),
    [
        (None, {"connect_timeout": 5, "server_side_binding": True, "prepare_threshold": 5}),
        ("false", {"connect_timeout": 5}),
    ],
)
def test_postgresql_prepares_what_a_connection_runs_repeatedly_unless_told_not_to(prepared, options):
    env = {"DATABASE_URL": "postgres://app@primary.internal:5432/bazaar"}
    if prepared is not None:
        env["DATABASE_PREPARED_STATEMENTS"] = prepared
    engine, read_options = _settings_of(env, "[settings.DATABASES['default'][k] for k in ('ENGINE', 'OPTIONS')]")
    assert read_options == options
    # Django's backend told PostgreSQL's limit of parameters (apps/core/postgresql/base.py).
    assert engine == "apps.core.postgresql"
    assert _settings_of({**env, "DATABASE_URL": "sqlite:///x.sqlite3"}, "settings.DATABASES['default']['OPTIONS']") == {
        "timeout": 20
    }


def test_a_replica_url_adds_the_mirrored_replica_alias_and_the_router():
    replica = _settings_of(
        {
            "DATABASE_URL": "postgres://app@primary.internal:5432/bazaar",
            "DATABASE_REPLICA_URL": "postgres://app@replica.internal:5432/bazaar",
        },
        "[settings.DATABASES['replica'][key] for key in ('NAME', 'TEST', 'OPTIONS')] + [settings.DATABASE_ROUTERS]",
    )

    assert replica == [
        "bazaar",
        {"MIRROR": "default"},
        {"connect_timeout": 5, "server_side_binding": True, "prepare_threshold": 5},
        ["apps.core.db_router.PrimaryReplicaRouter"],
    ]
