"""Per-account pacing shared by every worker: a token bucket kept in the queue's storage.

Redis (scale-out) keeps the bucket in a hash updated by one Lua script using the server's clock; the
embedded SQLite queue keeps it in a table of the queue file, updated in an immediate transaction. Both
answer ``(granted, wait_seconds)``. A provider's "slow down" (130429, 429, Retry-After) empties the
bucket and blocks it until the given time, for every worker at once.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
import time
from collections.abc import Callable

from django.conf import settings

HEADROOM = 0.975  # at 80/s and above, a burst of 2 keeps any one-second window within the limit
BURST_SECONDS = 0.02  # tokens handed out at once: 20 ms worth (at least one)
ABORT_CHECK_SECONDS = 0.25  # a waiting sender looks this often whether it should give up

REDIS_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'slow')
local tokens = tonumber(v[1]) or burst
local ts = tonumber(v[2]) or now
local slow = tonumber(v[3]) or 0
if slow > now then return {0, tostring(slow - now)} end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
local wait = 0
if granted == 0 then wait = (want - tokens) / rate end
return {granted, tostring(wait)}
"""
REDIS_SLOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local slow = tonumber(redis.call('HGET', KEYS[1], 'slow')) or 0
local until_ = math.max(slow, now + tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'slow', tostring(until_), 'tokens', '0', 'ts', tostring(until_))
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(until_)
"""


def refill(tokens: float, last: float, now: float, rate: float, burst: float) -> float:
    return min(burst, tokens + max(0.0, now - last) * rate)


class SqliteBuckets:
    """Buckets in a table of the SQLite queue file; one connection per thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        with self._conn() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS campaignid_pacing "
                         "(key TEXT PRIMARY KEY, tokens REAL, ts REAL, slow REAL)")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # no fsync per grant: losing a bucket on power loss is harmless
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def acquire(self, key: str, rate: float, burst: float, want: int) -> tuple[int, float]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            now = time.time()
            row = conn.execute("SELECT tokens, ts, slow FROM campaignid_pacing WHERE key = ?", (key,)).fetchone()
            tokens, ts, slow = row if row else (burst, now, 0.0)
            if slow > now:
                conn.execute("COMMIT")
                return 0, slow - now
            tokens = refill(tokens, ts, now, rate, burst)
            granted = min(want, math.floor(tokens))
            tokens -= granted
            conn.execute("INSERT INTO campaignid_pacing (key, tokens, ts, slow) VALUES (?, ?, ?, 0) "
                         "ON CONFLICT(key) DO UPDATE SET tokens = excluded.tokens, ts = excluded.ts",
                         (key, tokens, now))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return granted, 0.0 if granted else (want - tokens) / rate

    def slow_down(self, key: str, seconds: float) -> None:
        until = time.time() + seconds
        self._conn().execute(
            "INSERT INTO campaignid_pacing (key, tokens, ts, slow) VALUES (?, 0, ?, ?) ON CONFLICT(key) DO UPDATE "
            "SET tokens = 0, ts = MAX(excluded.ts, campaignid_pacing.slow), slow = MAX(excluded.slow, "
            "campaignid_pacing.slow)", (key, until, until))


class LocalBuckets:
    """In-process buckets for the inline (immediate) queue mode: one process, nothing to share."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, list[float]] = {}

    def acquire(self, key: str, rate: float, burst: float, want: int) -> tuple[int, float]:
        with self._lock:
            now = time.time()
            tokens, ts, slow = self._state.get(key, [burst, now, 0.0])
            if slow > now:
                return 0, slow - now
            tokens = refill(tokens, ts, now, rate, burst)
            granted = min(want, math.floor(tokens))
            self._state[key] = [tokens - granted, now, slow]
            return granted, 0.0 if granted else (want - tokens) / rate

    def slow_down(self, key: str, seconds: float) -> None:
        with self._lock:
            until = time.time() + seconds
            self._state[key] = [0.0, until, max(until, self._state.get(key, [0, 0, 0])[2])]


class RedisBuckets:
    def __init__(self, client) -> None:
        self.client = client
        self._acquire = client.register_script(REDIS_SCRIPT)
        self._slow = client.register_script(REDIS_SLOW)

    def acquire(self, key: str, rate: float, burst: float, want: int) -> tuple[int, float]:
        granted, wait = self._acquire(keys=[f"campaignid:pace:{key}"], args=[rate, burst, want])
        return int(granted), float(wait)

    def slow_down(self, key: str, seconds: float) -> None:
        self._slow(keys=[f"campaignid:pace:{key}"], args=[seconds])


_stores: dict[int, object] = {}


def buckets():
    """The bucket store of the configured queue: Redis, the SQLite queue file, or in-process."""
    storage = settings.HUEY.storage
    store = _stores.get(id(storage))
    if store is None:
        if hasattr(storage, "conn") and storage.__class__.__name__.startswith("Redis"):
            store = RedisBuckets(storage.conn)
        elif getattr(storage, "filename", None):
            store = SqliteBuckets(storage.filename)
        else:
            store = LocalBuckets()
        _stores[id(storage)] = store
    return store


class Pacer:
    """Async gate for one account within one sender: takes tokens from the shared bucket in small
    grants and waits when the bucket (or a provider's slow-down) says so."""

    def __init__(self, key: str, rate_per_second: float, store=None) -> None:
        self.key = key
        self.rate = max(0.1, rate_per_second * HEADROOM)
        # Two tokens at least: a token that falls due while every sender sleeps is not lost.
        self.burst = max(2.0, math.floor(self.rate * BURST_SECONDS))
        self.store = store or buckets()
        self._local = 0
        self._lock = asyncio.Lock()

    async def wait(self, abort: Callable[[], bool] | None = None) -> bool:
        """Wait for this sender's turn; False (no token taken) as soon as ``abort()`` says so."""
        async with self._lock:
            while self._local <= 0:
                if abort is not None and abort():
                    return False
                granted, wait = self.store.acquire(self.key, self.rate, self.burst, int(self.burst))
                if granted:
                    self._local = granted
                    break
                await asyncio.sleep(min(max(wait, 0.001), ABORT_CHECK_SECONDS if abort else 5.0))
            if abort is not None and abort():
                return False
            self._local -= 1
            return True

    def slow_down(self, seconds: float) -> None:
        self._local = 0
        self.store.slow_down(self.key, seconds)
