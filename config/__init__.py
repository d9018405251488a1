# The Celery app is loaded with Django, so every task is registered and `enqueue` finds it.
from config.celery import app as celery_app

__all__ = ("celery_app",)
