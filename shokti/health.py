"""Liveness and readiness, for load balancers and orchestrators."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from shokti.celery import app as celery_app
from shokti.errors import utc_timestamp

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        logger.warning("Health check: database unavailable", exc_info=True)
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        logger.warning("Health check: broker unavailable", exc_info=True)
        return False


def _cache_ok() -> bool:
    try:
        cache.set("health:probe", "ok", timeout=10)
        return cache.get("health:probe") == "ok"
    except Exception:
        logger.warning("Health check: cache unavailable", exc_info=True)
        return False


@require_GET
def live(request):
    database = _database_ok()
    body = {
        "status": "healthy" if database else "unhealthy",
        "service": "shokti",
        "version": settings.SHOKTI_VERSION,
        "timestamp": utc_timestamp(),
        "database": "connected" if database else "unavailable",
    }
    return JsonResponse(body, status=200 if database else 503)


@require_GET
def ready(request):
    results = {"database": _database_ok(), "broker": _broker_ok(), "cache": _cache_ok()}
    checks = {name: {"status": "healthy" if ok else "unhealthy"} for name, ok in results.items()}
    is_ready = all(results.values())
    body = {"status": "ready" if is_ready else "not_ready", "checks": checks, "timestamp": utc_timestamp()}
    return JsonResponse(body, status=200 if is_ready else 503)
