"""Fixed-window counters shared by every process and host: rate limits, failed logins, breaker windows.

With ``QUEUE_URL=redis://…`` they live in the queue's Redis (``INCR`` + ``EXPIRE`` in one transaction);
otherwise in the database table ``ops_counter`` (one atomic upsert per hit; the table belongs to the ops
app's models), which every process of a deployment shares. A window opens at a key's first hit and lasts
``seconds``. Used by rate limits, login throttling and the circuit breaker.
"""

from __future__ import annotations

import functools
import random
import time
from urllib.parse import urlparse

from django.conf import settings
from django.db import connection

PREFIX = "campaignid:counter:"


@functools.cache
def _redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def _redis():
    if urlparse(settings.QUEUE_URL).scheme not in ("redis", "rediss"):
        return None
    return _redis_client(settings.QUEUE_URL)


def hit(key: str, seconds: int, n: int = 1) -> tuple[int, float]:
    """Count ``n`` hits on ``key``; return the count in the current window and the seconds left in it."""
    redis = _redis()
    if redis is not None:
        name = f"{PREFIX}{settings.QUEUE_NAME}:{key}"
        pipe = redis.pipeline(transaction=True)
        pipe.set(name, 0, ex=seconds, nx=True)
        pipe.incrby(name, n)
        pipe.pttl(name)
        _, count, ttl_ms = pipe.execute()
        return int(count), max(ttl_ms, 0) / 1000
    return _db_hit(key, seconds, n)


# One atomic statement on SQLite (3.35+) and PostgreSQL: an expired window restarts at n.
UPSERT = (
    'INSERT INTO ops_counter ("key", "count", expires_at) VALUES (%s, %s, %s) ON CONFLICT ("key") DO UPDATE SET '
    '"count" = CASE WHEN ops_counter.expires_at <= %s THEN excluded."count" '
    'ELSE ops_counter."count" + excluded."count" END, '
    "expires_at = CASE WHEN ops_counter.expires_at <= %s THEN excluded.expires_at ELSE ops_counter.expires_at END "
    'RETURNING "count", expires_at'
)


def _db_hit(key: str, seconds: int, n: int = 1) -> tuple[int, float]:
    now = time.time()
    with connection.cursor() as cursor:
        cursor.execute(UPSERT, [key, n, now + seconds, now, now])
        count, expires_at = cursor.fetchone()
        if random.random() < 0.01:  # noqa: S311 - housekeeping, not security
            cursor.execute("DELETE FROM ops_counter WHERE expires_at <= %s", [now])
    return int(count), max(expires_at - now, 0.0)


def peek(key: str) -> int:
    """The count of ``key`` in its current window (0 when none)."""
    redis = _redis()
    if redis is not None:
        value = redis.get(f"{PREFIX}{settings.QUEUE_NAME}:{key}")
        return int(value or 0)
    with connection.cursor() as cursor:
        cursor.execute('SELECT "count" FROM ops_counter WHERE "key" = %s AND expires_at > %s', [key, time.time()])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def clear(key: str) -> None:
    redis = _redis()
    if redis is not None:
        redis.delete(f"{PREFIX}{settings.QUEUE_NAME}:{key}")
        return
    with connection.cursor() as cursor:
        cursor.execute('DELETE FROM ops_counter WHERE "key" = %s', [key])


def forget_all() -> None:
    """Drop every counter of this deployment (tests; an operator lifting all locks at once)."""
    redis = _redis()
    if redis is not None:
        names = list(redis.scan_iter(f"{PREFIX}{settings.QUEUE_NAME}:*", count=1000))
        if names:
            redis.delete(*names)
        return
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM ops_counter")
