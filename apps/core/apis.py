"""Service endpoints: health, metrics and the JSON error pages for API paths."""

from __future__ import annotations

import hmac
import logging
import sys
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, connections
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from django.views.defaults import page_not_found, server_error
from django_prometheus.exports import ExportToDjangoView
from drf_spectacular.utils import extend_schema, inline_serializer
from kombu import Connection as BrokerConnection
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.db_router import REPLICA
from apps.core.exceptions import (
    DATABASE_UNAVAILABLE_ERRORS,
    NotFound,
    ServerError,
    database_unavailable_response,
    error_response,
)

logger = logging.getLogger(__name__)


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("health check: database unreachable")
        return "down"
    return "ok"


def replica_status() -> str:
    """``off`` without DATABASE_REPLICA_URL; ``ok``, or ``degraded`` when the replica does not
    answer (reads routed there then answer 503, writes still work)."""
    if REPLICA not in connections:
        return "off"
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("health check: replica unreachable", exc_info=True)
        return "degraded"
    return "ok"


def cache_status() -> str:
    """``off`` without Redis (local memory cache); ``ok`` or ``degraded`` with it."""
    if not settings.REDIS_URL:
        return "off"
    try:
        cache.set("healthz", "1", timeout=5)
        return "ok" if cache.get("healthz") == "1" else "degraded"
    except Exception:  # any cache client failure degrades health, never fails it
        logger.warning("health check: cache unreachable", exc_info=True)
        return "degraded"


BROKER_TIMEOUT_SECONDS = 1


def broker_status() -> str:
    """``off`` without a broker (tasks run inline); ``ok`` or ``degraded`` after a short ping.

    The broker is ``CELERY_BROKER_URL``, else ``REDIS_URL``'s Redis."""
    url = settings.HEALTH_BROKER_URL
    if not url:
        return "off"
    try:
        if urlsplit(url).scheme in ("redis", "rediss", "unix"):
            client = redis.Redis.from_url(
                url, socket_connect_timeout=BROKER_TIMEOUT_SECONDS, socket_timeout=BROKER_TIMEOUT_SECONDS
            )
            try:
                client.ping()
            finally:
                client.close()
        else:
            with BrokerConnection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
                broker.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception:  # any broker client failure degrades health, never fails it
        logger.warning("health check: broker unreachable", exc_info=True)
        return "degraded"
    return "ok"


# The states of an optional dependency (cache, broker); one enum in the schema for both.
DEPENDENCY_STATES = ["ok", "degraded", "off"]
HEALTH_SCHEMA = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "degraded", "down"]),
        "database": serializers.ChoiceField(choices=["ok", "down"]),
        "replica": serializers.ChoiceField(choices=DEPENDENCY_STATES),
        "cache": serializers.ChoiceField(choices=DEPENDENCY_STATES),
        "broker": serializers.ChoiceField(choices=DEPENDENCY_STATES),
        "payments": serializers.ChoiceField(
            choices=["simulated"],
            required=False,
            help_text="Present only when production runs on the simulated payment provider (nothing is really paid).",
        ),
    },
)


class HealthApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="healthz",
        responses={(200, "application/json"): HEALTH_SCHEMA, (503, "application/json"): HEALTH_SCHEMA},
    )
    def get(self, request):
        dependencies = {
            "database": database_status(),
            "replica": replica_status(),
            "cache": cache_status(),
            "broker": broker_status(),
        }
        database = dependencies["database"]
        overall = "degraded" if "degraded" in dependencies.values() else "ok"
        if database != "ok":
            overall = "down"
        body = {"status": overall, **dependencies}
        if settings.PAYMENTS_SIMULATED_IN_PROD:
            # Said on every check, so monitoring notices a production that fakes payments.
            body["payments"] = "simulated"
        return Response(
            body,
            status=503 if database != "ok" else 200,
            headers={"Cache-Control": "no-store"},
        )


@require_safe
def metrics(request):
    """Prometheus metrics for a scraper holding ``METRICS_TOKEN`` as a Bearer token.

    Without a token configured the endpoint does not exist (404); a missing or wrong token is 401."""
    expected = settings.METRICS_TOKEN
    if not expected:
        return not_found(request)
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(supplied.strip().encode(), expected.encode()):
        return error_response(
            exceptions.NotAuthenticated("A valid metrics token is required."),
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return ExportToDjangoView(request)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


@csrf_exempt  # an unknown path answers 404 whatever the method, not a CSRF 403 for a POST
def not_found(request, exception=None):
    if _is_api(request):
        return error_response(NotFound())
    return page_not_found(request, exception)


def internal_error(request):
    """handler500; a database failure raised in middleware (sessions, auth) still answers 503."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE_ERRORS):
        return database_unavailable_response()
    if _is_api(request):
        return error_response(ServerError())
    return server_error(request)
