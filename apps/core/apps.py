import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger(__name__)


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        # Once per process (every gunicorn worker, Celery worker and management command).
        if settings.PAYMENTS_SIMULATED_IN_PROD:
            logger.warning(
                "ENV=prod is running on the simulated payment provider (PAYMENT_PROVIDER=simulated): "
                "test cards 'pay' and no money moves. Set STRIPE_SECRET_KEY and PAYMENT_PROVIDER=stripe "
                "unless this is a demo."
            )
