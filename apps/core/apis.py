"""Service endpoints: health and the JSON error pages for API paths."""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.defaults import page_not_found, server_error
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.exceptions import DATABASE_UNAVAILABLE_ERRORS, database_unavailable_response

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


HEALTH_SCHEMA = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "degraded", "down"]),
        "database": serializers.ChoiceField(choices=["ok", "down"]),
        "cache": serializers.ChoiceField(choices=["ok", "degraded", "off"]),
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
        database = database_status()
        cache_state = cache_status()
        overall = "down" if database != "ok" else ("degraded" if cache_state == "degraded" else "ok")
        return Response(
            {"status": overall, "database": database, "cache": cache_state},
            status=503 if database != "ok" else 200,
            headers={"Cache-Control": "no-store"},
        )


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return page_not_found(request, exception)


def internal_error(request):
    """handler500; a database failure raised in middleware (sessions, auth) still answers 503."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE_ERRORS):
        return database_unavailable_response()
    if _is_api(request):
        return JsonResponse({"detail": "Internal server error.", "code": "server_error"}, status=500)
    return server_error(request)
