"""The ENV loader (config/env.py) and what production refuses at start-up."""

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


def test_an_unknown_env_refuses_to_start():
    result = manage_check(ENV="staging")

    assert result.returncode != 0
    assert "ENV='staging' is not accepted; use one of: dev, test, prod." in result.stderr


def test_a_currency_without_two_decimals_refuses_to_start():
    result = manage_check(ENV="test", DEFAULT_CURRENCY="JPY")

    assert result.returncode != 0
    assert "DEFAULT_CURRENCY='JPY' has 0 decimal places" in result.stderr
