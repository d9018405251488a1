"""Catalog background work: thumbnails of uploaded images."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError
from celery import shared_task

from apps.catalog import services
from apps.core.tasks import DATABASE_ERRORS, RETRY


@shared_task(name="catalog.image_make_thumbnail", autoretry_for=(OSError, BotoCoreError, *DATABASE_ERRORS), **RETRY)
def image_make_thumbnail(*, image_id: int) -> None:
    """Make an uploaded image's thumbnail (queued by product_image_add). Idempotent: a second run,
    or a run for an image deleted meanwhile, changes nothing. Storage errors (the file system, S3)
    are retried."""
    services.image_make_thumbnail(image_id=image_id)
