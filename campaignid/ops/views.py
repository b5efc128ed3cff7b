"""The ``/metrics`` edge: a bearer token (``METRICS_TOKEN``) or a client address on the operator
allow-list (``METRICS_ALLOWED_ADDRESSES``, default loopback only)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from .metrics import exposition


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip(), token):
        return True
    return request.META.get("REMOTE_ADDR", "") in settings.METRICS_ALLOWED_ADDRESSES


@require_GET
def metrics(request):
    if not _allowed(request):
        response = HttpResponse("Forbidden: /metrics needs METRICS_TOKEN or an allowed operator address.\n",
                                status=403, content_type="text/plain; charset=utf-8")
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
