"""``Idempotency-Key``: a retried request gets the first answer back instead of acting twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction

from campaignid.lib.errors import Conflict, DomainError, Invalid

from .models import IdempotencyRecord


def once(scope, endpoint: str, key: str | None, body: dict, act: Callable[[], tuple[int, dict]],
         refusal: Callable[[Exception], tuple[int, dict] | None]) -> tuple[int, dict]:
    """Run ``act`` once per (organisation, endpoint, key); replay its (status, body) afterwards. A refusal
    is replayed too: ``refusal`` (given by the edge) turns a domain error into the answer to record."""
    if not key:
        return act()
    if len(key) > 200:
        raise Invalid("invalid_idempotency_key", "Idempotency-Key must be at most 200 characters.")
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(organisation=scope.organisation, endpoint=endpoint, key=key,
                                                      request_hash=digest)
    except IntegrityError:
        previous = IdempotencyRecord.objects.get(organisation=scope.organisation, endpoint=endpoint, key=key)
        if previous.request_hash != digest:
            raise Invalid("idempotency_key_reused",
                           "This Idempotency-Key was already used with a different request body.") from None
        if previous.status_code is None:
            raise Conflict("request_in_progress", "A request with this Idempotency-Key is still running; "
                           "retry in a moment.") from None
        return previous.status_code, previous.response
    try:
        status, response = act()
    except DomainError as exc:
        answer = refusal(exc)
        if answer is None:
            record.delete()
            raise
        status, response = answer
    except BaseException:
        record.delete()  # an unexpected failure must not lock the key: the client may retry
        raise
    record.status_code, record.response = status, response
    record.save(update_fields=["status_code", "response"])
    return status, response
