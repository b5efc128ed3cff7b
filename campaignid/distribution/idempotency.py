"""``Idempotency-Key``: a retried request gets the first answer back instead of acting twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction

from campaignid.api.errors import ApiError

from .models import IdempotencyRecord


def once(scope, endpoint: str, key: str | None, body: dict, act: Callable[[], tuple[int, dict]]) -> tuple[int, dict]:
    """Run ``act`` once per (organisation, endpoint, key); replay its (status, body) afterwards."""
    if not key:
        return act()
    if len(key) > 200:
        raise ApiError(422, "invalid_idempotency_key", "Idempotency-Key must be at most 200 characters.")
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(organisation=scope.organisation, endpoint=endpoint, key=key,
                                                      request_hash=digest)
    except IntegrityError:
        previous = IdempotencyRecord.objects.get(organisation=scope.organisation, endpoint=endpoint, key=key)
        if previous.request_hash != digest:
            raise ApiError(422, "idempotency_key_reused",
                           "This Idempotency-Key was already used with a different request body.") from None
        if previous.status_code is None:
            raise ApiError(409, "request_in_progress", "A request with this Idempotency-Key is still running; "
                           "retry in a moment.") from None
        return previous.status_code, previous.response
    try:
        status, response = act()
    except ApiError as exc:
        status, response = exc.status, {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
    except BaseException:
        record.delete()  # an unexpected failure must not lock the key: the client may retry
        raise
    record.status_code, record.response = status, response
    record.save(update_fields=["status_code", "response"])
    return status, response
