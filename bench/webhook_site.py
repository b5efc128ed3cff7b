"""URLs for bench_webhooks.py: the service's own, plus a bare view that only checks the signature and
parses the JSON (the reference the webhook intake is compared with)."""

from __future__ import annotations

import hashlib
import hmac
import json

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from campaignid.urls import handler404, handler500  # noqa: F401
from campaignid.urls import urlpatterns as service_urls

APP_SECRET = b"sandbox-app-secret"


@csrf_exempt
def bare(request):
    expected = hmac.new(APP_SECRET, request.body, hashlib.sha256).hexdigest()
    given = request.headers.get("X-Hub-Signature-256", "").removeprefix("sha256=")
    if not hmac.compare_digest(expected, given):
        return HttpResponse(status=403)
    json.loads(request.body)
    return HttpResponse("OK")


urlpatterns = [path("bare/whatsapp", bare), *service_urls]
