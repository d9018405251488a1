"""`.env.example` must document every variable the code reads."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READERS = re.compile(r"""(?:env(?:\.\w+)?\(|os\.environ\.get\(|os\.environ\[|getenv\()\s*["']([A-Z][A-Z0-9_]+)["']""")
SOURCES = ["config/settings.py", "config/env.py", "gunicorn.conf.py"]


def variables_read() -> set[str]:
    names: set[str] = set()
    for source in SOURCES:
        names |= set(READERS.findall((ROOT / source).read_text()))
    for source in (ROOT / "apps").rglob("*.py"):
        if "tests" not in source.parts:
            names |= set(READERS.findall(source.read_text()))
    return names


def documented() -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.MULTILINE))


def test_every_variable_the_code_reads_is_in_env_example():
    read = variables_read()
    assert {"SECRET_KEY", "DATABASE_URL", "DEFAULT_CURRENCY", "WEB_CONCURRENCY"} <= read  # the scan works
    assert read - documented() == set()


def test_env_example_covers_the_api_configuration_table():
    contract = {
        "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "NUM_PROXIES", "DATABASE_URL",
        "DATABASE_REPLICA_URL", "REDIS_URL", "MEDIA_ROOT", "AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL",
        "AWS_S3_REGION_NAME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PAYMENT_PROVIDER",
        "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_PUBLISHABLE_KEY", "STRIPE_ALLOW_LIVE",
        "STRIPE_API_BASE", "EMAIL_URL", "DEFAULT_FROM_EMAIL", "FRONTEND_URL", "DEFAULT_CURRENCY",
        "SHIPPING_FLAT_RATE", "ORDER_RESERVATION_MINUTES", "CORS_ALLOWED_ORIGINS", "THROTTLE_DISABLED",
        "WEB_CONCURRENCY", "GUNICORN_THREADS", "SENTRY_DSN", "METRICS_TOKEN",
    }  # fmt: skip
    assert contract - documented() == set()
