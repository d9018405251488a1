"""The ENV loader (config/env.py) and what production refuses at start-up."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env as env_loader

ROOT = Path(__file__).resolve().parents[3]
GOOD_SECRET = secrets.token_urlsafe(64)
# Only what a Python process needs: the developer's or CI's own settings must not leak in.
KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV")


@pytest.fixture
def clean_env(monkeypatch):
    """Forget the variables these tests set or read; monkeypatch restores them afterwards."""
    for name in ("ENV", "BAZAAR_FROM_FILE", "BAZAAR_IN_BOTH", "BAZAAR_OTHER_ENV"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_env_defaults_to_dev(clean_env):
    assert env_loader.env_name() == "dev"


@pytest.mark.parametrize("value", ["dev", "test", "prod", " prod "])
def test_env_accepts_the_three_environments(clean_env, value):
    clean_env.setenv("ENV", value)

    assert env_loader.env_name() == value.strip()


@pytest.mark.parametrize("value", ["production", "staging", "PROD", "Dev"])
def test_an_unknown_env_is_a_clear_error_naming_the_accepted_values(clean_env, value):
    clean_env.setenv("ENV", value)

    with pytest.raises(ImproperlyConfigured) as error:
        env_loader.env_name()

    assert f"ENV={value!r}" in str(error.value)
    assert "dev, test, prod" in str(error.value)


def test_load_reads_the_file_of_the_selected_env_and_real_variables_win(clean_env, tmp_path):
    (tmp_path / ".env.test").write_text("BAZAAR_FROM_FILE=from-file\nBAZAAR_IN_BOTH=from-file\n")
    (tmp_path / ".env.prod").write_text("BAZAAR_OTHER_ENV=prod-file\n")
    clean_env.setenv("ENV", "test")
    clean_env.setenv("BAZAAR_IN_BOTH", "from-environment")

    name, env = env_loader.load(tmp_path)

    assert name == "test"
    assert env.str("BAZAAR_FROM_FILE") == "from-file"
    assert env.str("BAZAAR_IN_BOTH") == "from-environment"
    assert "BAZAAR_OTHER_ENV" not in os.environ


def test_load_uses_the_dev_file_without_env(clean_env, tmp_path):
    (tmp_path / ".env.dev").write_text("BAZAAR_FROM_FILE=dev-file\n")

    name, env = env_loader.load(tmp_path)

    assert name == "dev"
    assert env.str("BAZAAR_FROM_FILE") == "dev-file"


def test_load_without_a_file_is_fine(clean_env, tmp_path):
    clean_env.setenv("ENV", "prod")

    name, env = env_loader.load(tmp_path)

    assert name == "prod"
    assert env.str("BAZAAR_FROM_FILE", default="unset") == "unset"


def test_load_refuses_an_unknown_env_before_reading_anything(clean_env, tmp_path):
    (tmp_path / ".env.staging").write_text("BAZAAR_FROM_FILE=staging-file\n")
    clean_env.setenv("ENV", "staging")

    with pytest.raises(ImproperlyConfigured):
        env_loader.load(tmp_path)

    assert "BAZAAR_FROM_FILE" not in os.environ


@pytest.mark.parametrize(("code", "expected"), [("usd", "USD"), (" eur ", "EUR"), ("GBP", "GBP")])
def test_validate_currency_normalises_two_decimal_currencies(code, expected):
    assert env_loader.validate_currency(code) == expected


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("JPY", "DEFAULT_CURRENCY='JPY' has 0 decimal places"),
        ("BHD", "DEFAULT_CURRENCY='BHD' has 3 decimal places"),
        ("XYZ", "DEFAULT_CURRENCY='XYZ' is not an ISO 4217 currency code."),
        ("", "DEFAULT_CURRENCY='' is not an ISO 4217 currency code."),
    ],
)
def test_validate_currency_refuses_unknown_codes_and_other_decimals(code, message):
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace(".", r"\.")):
        env_loader.validate_currency(code)


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"debug": True}, "DEBUG"),
        ({"secret_key": ""}, "SECRET_KEY"),
        ({"secret_key": env_loader.DEV_SECRET_KEY}, "SECRET_KEY"),
        ({"secret_key": "django-insecure-" + "k" * 60}, "SECRET_KEY"),
        ({"secret_key": "short-but-random-7f3a"}, "SECRET_KEY"),
        ({"secret_key": "ab" * 40}, "SECRET_KEY"),
        ({"allowed_hosts": []}, "ALLOWED_HOSTS"),
        ({"allowed_hosts": ["", " "]}, "ALLOWED_HOSTS"),
    ],
)
def test_check_production_refuses_unsafe_settings_naming_the_variable(overrides, variable):
    arguments = {"debug": False, "secret_key": GOOD_SECRET, "allowed_hosts": ["example.com"], **overrides}

    with pytest.raises(ImproperlyConfigured, match=variable):
        env_loader.check_production(**arguments)


def test_check_production_accepts_safe_settings():
    env_loader.check_production(debug=False, secret_key=GOOD_SECRET, allowed_hosts=["example.com"])


@pytest.mark.parametrize("env", ["dev", "test"])
def test_outside_prod_the_provider_defaults_to_simulated_without_a_stripe_key(env):
    assert env_loader.payment_provider(configured="", stripe_secret_key="", env=env) == "simulated"


@pytest.mark.parametrize("env", ["dev", "test", "prod"])
def test_a_stripe_key_makes_stripe_the_default_provider(env):
    assert env_loader.payment_provider(configured="", stripe_secret_key="sk_test_abc", env=env) == "stripe"


@pytest.mark.parametrize("env", ["dev", "test", "prod"])
@pytest.mark.parametrize("configured", ["simulated", "stripe", " simulated "])
def test_an_explicit_provider_always_wins(env, configured):
    chosen = env_loader.payment_provider(configured=configured, stripe_secret_key="sk_test_abc", env=env)

    assert chosen == configured.strip()


def test_prod_runs_the_simulated_provider_only_when_it_is_named():
    assert env_loader.payment_provider(configured="simulated", stripe_secret_key="", env="prod") == "simulated"


@pytest.mark.parametrize("configured", ["", "  "])
def test_prod_refuses_to_fall_back_to_the_simulated_provider(configured):
    with pytest.raises(ImproperlyConfigured, match="PAYMENT_PROVIDER=simulated explicitly") as error:
        env_loader.payment_provider(configured=configured, stripe_secret_key="", env="prod")

    assert "ENV=prod" in str(error.value)
    assert "STRIPE_SECRET_KEY" in str(error.value)


def test_an_unknown_provider_is_refused_naming_the_variable():
    with pytest.raises(ImproperlyConfigured) as error:
        env_loader.payment_provider(configured="paypal", stripe_secret_key="", env="dev")

    assert str(error.value) == "PAYMENT_PROVIDER='paypal' is not one of: simulated, stripe."


# --- Start-up in a real process: settings are read once, at import --------------------------


def manage_check(*, deploy: bool = False, **variables: str) -> subprocess.CompletedProcess:
    if (ROOT / ".env.prod").exists() or (ROOT / ".env.test").exists():
        pytest.skip("a local .env.prod or .env.test would feed these settings")
    environment = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", **variables)
    options = ["--deploy", "--fail-level", "WARNING"] if deploy else []
    return subprocess.run(
        [sys.executable, "manage.py", "check", *options],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


GOOD_PROD = {
    "ENV": "prod",
    "DEBUG": "false",
    "SECRET_KEY": GOOD_SECRET,
    "ALLOWED_HOSTS": "example.com",
    "SECURE_SSL_REDIRECT": "false",
    "STRIPE_SECRET_KEY": "sk_test_bazaar_not_a_real_key",  # a real provider: stripe (test mode)
}


def test_a_good_production_environment_starts():
    result = manage_check(**GOOD_PROD)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_checks_pass_with_a_production_environment_behind_a_proxy():
    result = manage_check(deploy=True, **{**GOOD_PROD, "SECURE_SSL_REDIRECT": "true", "NUM_PROXIES": "1"})

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"DEBUG": "true"}, "DEBUG"),
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": env_loader.DEV_SECRET_KEY}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
    ],
    ids=["debug-on", "no-secret-key", "dev-secret-key", "empty-allowed-hosts", "no-allowed-hosts"],
)
def test_production_refuses_to_start_with_unsafe_settings(changes, variable):
    variables = {name: value for name, value in {**GOOD_PROD, **changes}.items() if value is not None}

    result = manage_check(**variables)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


# --- Production never fakes payments by accident ---------------------------------------------

SIMULATED_WARNING = "ENV=prod is running on the simulated payment provider"
# What a process prints of its /healthz; the database is a fresh SQLite file (SELECT 1 needs no table).
PRINT_HEALTH = (
    "import django, json; django.setup(); from django.test import Client; "
    "response = Client().get('/healthz'); print(response.status_code, json.dumps(response.json()))"
)


def run_django(code: str, *, database: Path, **variables: str) -> subprocess.CompletedProcess:
    if (ROOT / ".env.prod").exists() or (ROOT / ".env.dev").exists():
        pytest.skip("a local .env.prod or .env.dev would feed these settings")
    environment = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=f"sqlite:///{database}", **variables)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def without_stripe(variables: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in variables.items() if name != "STRIPE_SECRET_KEY"}


def test_production_without_a_payment_provider_or_stripe_key_refuses_to_start():
    result = manage_check(**without_stripe(GOOD_PROD))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "PAYMENT_PROVIDER=simulated explicitly" in result.stderr.strip().splitlines()[-1]


def test_production_with_a_stripe_key_starts_on_stripe_without_the_warning(tmp_path):
    result = run_django(
        PRINT_HEALTH + "; from django.conf import settings; print(settings.PAYMENT_PROVIDER)",
        database=tmp_path / "db.sqlite3",
        **{**GOOD_PROD, "ALLOWED_HOSTS": "testserver"},
    )

    assert result.returncode == 0, result.stderr
    health, provider = result.stdout.strip().splitlines()
    assert provider == "stripe"
    assert health.startswith("200 ")
    assert "payments" not in json.loads(health.removeprefix("200 "))
    assert SIMULATED_WARNING not in result.stderr


def test_production_on_an_explicit_simulated_provider_starts_says_so_once_and_in_healthz(tmp_path):
    variables = {**without_stripe(GOOD_PROD), "ALLOWED_HOSTS": "testserver", "PAYMENT_PROVIDER": "simulated"}

    result = run_django(PRINT_HEALTH, database=tmp_path / "db.sqlite3", **variables)

    assert result.returncode == 0, result.stderr
    status, _, body = result.stdout.strip().partition(" ")
    assert status == "200"
    assert json.loads(body) == {
        "status": "ok",
        "database": "ok",
        "replica": "off",
        "cache": "off",
        "broker": "off",
        "payments": "simulated",
    }
    warnings = [json.loads(line) for line in result.stderr.splitlines() if SIMULATED_WARNING in line]
    assert [(record["level"], record["logger"]) for record in warnings] == [("WARNING", "apps.core.apps")]


def test_deploy_checks_pass_on_an_explicit_simulated_provider():
    variables = {**without_stripe(GOOD_PROD), "SECURE_SSL_REDIRECT": "true", "NUM_PROXIES": "1"}

    result = manage_check(deploy=True, **variables, PAYMENT_PROVIDER="simulated")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize("env", ["dev", "test"])
def test_outside_prod_the_simulated_provider_is_still_the_quiet_default(tmp_path, env):
    result = run_django(
        PRINT_HEALTH + "; from django.conf import settings; print(settings.PAYMENT_PROVIDER)",
        database=tmp_path / "db.sqlite3",
        ENV=env,
    )

    assert result.returncode == 0, result.stderr
    health, provider = result.stdout.strip().splitlines()
    assert provider == "simulated"
    assert health.startswith("200 ")
    assert "payments" not in json.loads(health.removeprefix("200 "))
    assert SIMULATED_WARNING not in result.stderr


@pytest.mark.django_db
def test_healthz_keeps_its_fields_and_status_and_adds_payments_when_prod_simulates(api_client, settings):
    settings.REDIS_URL = ""
    settings.HEALTH_BROKER_URL = ""
    settings.PAYMENTS_SIMULATED_IN_PROD = True

    response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "replica": "off",
        "cache": "off",
        "broker": "off",
        "payments": "simulated",
    }


def test_an_unknown_env_refuses_to_start():
    result = manage_check(ENV="staging")

    assert result.returncode != 0
    assert "ENV='staging' is not accepted; use one of: dev, test, prod." in result.stderr


def test_a_currency_without_two_decimals_refuses_to_start():
    result = manage_check(ENV="test", DEFAULT_CURRENCY="JPY")

    assert result.returncode != 0
    assert "DEFAULT_CURRENCY='JPY' has 0 decimal places" in result.stderr
