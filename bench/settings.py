"""Settings for the load benchmark only: the production settings plus a urlconf that adds the
bare "ceiling" view. Select with DJANGO_SETTINGS_MODULE=bench.settings (never in production)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
