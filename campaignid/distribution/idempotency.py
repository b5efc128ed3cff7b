"""``Idempotency-Key``: a retried request gets the first answer back instead of acting twice.

Keys belong to one caller (an API token, or a dashboard user) of one organisation: another caller's key never
replays an answer it was not given. A record still unanswered after the request time limit belongs to a
request that died (its web worker was killed): the next retry takes it over and is answered."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaignid.lib.errors import Conflict, DomainError, Invalid

from .models import IdempotencyRecord


def caller_of(scope) -> str:
    return f"token:{scope.token_id}" if scope.token_id else f"user:{scope.user_id}"


def once(scope, endpoint: str, key: str | None, body: dict, act: Callable[[], tuple[int, dict]],
         refusal: Callable[[Exception], tuple[int, dict] | None]) -> tuple[int, dict]:
    """Run ``act`` once per (organisation, caller, endpoint, key); replay its (status, body) afterwards. A
    refusal is replayed too: ``refusal`` (given by the edge) turns a domain error into the answer to record."""
    if not key:
        return act()
    if len(key) > 200:
        raise Invalid("invalid_idempotency_key", "Idempotency-Key must be at most 200 characters.")
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    ident = {"organisation": scope.organisation, "caller": caller_of(scope), "endpoint": endpoint, "key": key}
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(**ident, request_hash=digest)
    except IntegrityError:
        record = _previous(ident, digest)
        if record.status_code is not None:
            return record.status_code, record.response
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


def _previous(ident: dict, digest: str) -> IdempotencyRecord:
    """The answered record to replay, or the dead in-flight record this request now owns."""
    previous = IdempotencyRecord.objects.get(**ident)
    if previous.request_hash != digest:
        raise Invalid("idempotency_key_reused",
                       "This Idempotency-Key was already used with a different request body.")
    if previous.status_code is not None:
        return previous
    now = timezone.now()
    limit = timedelta(seconds=settings.REQUEST_TIME_LIMIT_SECONDS)
    taken = previous.created_at <= now - limit and IdempotencyRecord.objects.filter(
        pk=previous.pk, status_code__isnull=True, created_at=previous.created_at).update(created_at=now)
    if not taken:
        raise Conflict("request_in_progress", "A request with this Idempotency-Key is still running; "
                       "retry in a moment.")
    previous.created_at = now
    return previous
