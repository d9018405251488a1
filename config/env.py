"""The ENV-based configuration loader.

`ENV` (default ``dev``) picks the file ``.env.<ENV>`` next to ``manage.py``. Variables already in
the process environment win over the file, and a missing file is fine: every setting has a
default suited to the environment, except the secrets production must be given.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from babel.numbers import get_currency_precision, list_currencies
from django.core.exceptions import ImproperlyConfigured

ACCEPTED_ENVS = ("dev", "test", "prod")
DEV_SECRET_KEY = "django-insecure-bazaar-dev-only-never-use-in-production"  # noqa: S105 - public by design
MIN_SECRET_KEY_LENGTH = 50


def env_name() -> str:
    """The selected environment; raises ImproperlyConfigured for anything not accepted."""
    name = os.environ.get("ENV", "dev").strip() or "dev"
    if name not in ACCEPTED_ENVS:
        raise ImproperlyConfigured(f"ENV={name!r} is not accepted; use one of: {', '.join(ACCEPTED_ENVS)}.")
    return name


def load(base_dir: Path) -> tuple[str, environ.Env]:
    """Read ``.env.<ENV>`` (if present) under real environment variables and return the reader."""
    name = env_name()
    env_file = base_dir / f".env.{name}"
    if env_file.is_file():
        # overwrite=False: a variable set in the real environment keeps its value.
        environ.Env.read_env(env_file, overwrite=False)
    return name, environ.Env()


def validate_currency(code: str) -> str:
    """Return the upper-cased ISO 4217 code; refuse unknown codes and those without two decimals."""
    code = code.strip().upper()
    if code not in list_currencies():
        raise ImproperlyConfigured(f"DEFAULT_CURRENCY={code!r} is not an ISO 4217 currency code.")
    if get_currency_precision(code) != 2:
        raise ImproperlyConfigured(
            f"DEFAULT_CURRENCY={code!r} has {get_currency_precision(code)} decimal places; "
            "Bazaar needs a currency with exactly two (USD, EUR, GBP, ...)."
        )
    return code


def check_production(*, debug: bool, secret_key: str, allowed_hosts: list[str]) -> None:
    """Refuse to start production with settings that are unsafe there, naming the variable."""
    if debug:
        raise ImproperlyConfigured("ENV=prod refuses to start with DEBUG on: set DEBUG=false.")
    if not secret_key or secret_key == DEV_SECRET_KEY or secret_key.startswith("django-insecure"):
        raise ImproperlyConfigured("ENV=prod needs SECRET_KEY set to a private random value (not the dev key).")
    if len(secret_key) < MIN_SECRET_KEY_LENGTH or len(set(secret_key)) < 5:
        raise ImproperlyConfigured(
            f"ENV=prod needs a SECRET_KEY of at least {MIN_SECRET_KEY_LENGTH} varied characters; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))'"
        )
    if not [host for host in allowed_hosts if host.strip()]:
        raise ImproperlyConfigured("ENV=prod needs ALLOWED_HOSTS (comma-separated host names).")


PAYMENT_PROVIDERS = ("simulated", "stripe")


def payment_provider(*, configured: str, stripe_secret_key: str, env: str) -> str:
    """The payment provider: ``PAYMENT_PROVIDER`` when set, else ``stripe`` with a Stripe key,
    else ``simulated``.

    Production never falls back to the simulated provider, where test cards "pay": with
    ``env == "prod"``, no ``PAYMENT_PROVIDER`` and no Stripe key it raises ImproperlyConfigured.
    ``PAYMENT_PROVIDER=simulated`` set explicitly still runs it (a demo). An unknown name is refused."""
    name = configured.strip()
    if not name:
        if stripe_secret_key.strip():
            return "stripe"
        if env == "prod":
            raise ImproperlyConfigured(
                "ENV=prod needs a real payment provider: set STRIPE_SECRET_KEY (PAYMENT_PROVIDER defaults to "
                "stripe then), or PAYMENT_PROVIDER=simulated explicitly for a demo where nothing is really paid."
            )
        return "simulated"
    if name not in PAYMENT_PROVIDERS:
        raise ImproperlyConfigured(f"PAYMENT_PROVIDER={name!r} is not one of: {', '.join(PAYMENT_PROVIDERS)}.")
    return name
