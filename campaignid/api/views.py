"""Plain Django views that sit beside the API: health check and JSON error pages for API paths."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.defaults import page_not_found
from django.views.defaults import server_error as html_server_error

from .errors import error_response

log = logging.getLogger("campaignid.health")
API_PREFIXES = ("/api/", "/dhis2/", "/webhooks/", "/.well-known/")


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        log.warning("health: database check failed: %s", exc)
        return "error"


def _check_queue() -> str:
    """Round-trip a key through the queue's storage (SQLite file or Redis)."""
    huey = settings.HUEY
    key = f"health-{uuid.uuid4().hex}"
    try:
        huey.put(key, "1")
        return "ok" if huey.get(key) == "1" else "error"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        log.warning("health: queue check failed: %s", exc)
        return "error"


def health(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "queue": _check_queue()}
    ok = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if ok else "degraded", **checks}, status=200 if ok else 503)


def not_found(request: HttpRequest, exception=None):
    if request.path.startswith(API_PREFIXES):
        return error_response(404, "not_found", "No such endpoint or object.")
    return page_not_found(request, exception)


def server_error(request: HttpRequest):
    if request.path.startswith(API_PREFIXES):
        return error_response(500, "internal_error", "An unexpected error occurred; it has been logged.")
    return html_server_error(request)
