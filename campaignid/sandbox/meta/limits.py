"""Throughput (per business number) and pair (per business number and recipient) limits.

Both are token buckets that only accepted messages consume:
- throughput: capacity ``mps`` tokens, refilled at ``mps`` per second (one second of burst) → 130429;
- pair: capacity ``pair_burst`` tokens, refilled at one token every ``pair_interval_s`` seconds → 131056.
  With the defaults (5, 6 s) a recipient can get five messages at once, then one every six seconds.
A value of 0 disables the corresponding limit.
"""

from __future__ import annotations

from typing import Any

PRUNE_ABOVE = 50_000


class TokenBucket:
    __slots__ = ("capacity", "rate", "tokens", "stamp")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity, self.rate = capacity, rate
        self.tokens, self.stamp = capacity, now

    def refill(self, now: float) -> float:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return self.tokens

    def retry_after(self) -> float:
        return max(0.0, (1 - self.tokens) / self.rate) if self.rate else 0.0


def _bucket(buckets: dict, key: Any, capacity: float, rate: float, now: float) -> TokenBucket | None:
    if capacity <= 0 or rate <= 0:
        return None
    bucket = buckets.get(key)
    if bucket is None or bucket.capacity != capacity or bucket.rate != rate:
        bucket = buckets[key] = TokenBucket(capacity, rate, now)
    bucket.refill(now)
    return bucket


class Limiter:
    def __init__(self) -> None:
        self.throughput: dict[str, TokenBucket] = {}
        self.pairs: dict[tuple[str, str], TokenBucket] = {}

    def admit(self, limits: dict[str, Any], phone_number_id: str, wa_id: str, now: float) -> tuple[int, float] | None:
        """Consume one token from both buckets, or return (error code, seconds to wait) and consume nothing."""
        mps = float(limits.get("mps") or 0)
        interval = float(limits.get("pair_interval_s") or 0)
        number = _bucket(self.throughput, phone_number_id, mps, mps, now)
        if number is not None and number.tokens < 1:
            return 130429, number.retry_after()
        burst = float(limits.get("pair_burst") or 0)
        pair = _bucket(self.pairs, (phone_number_id, wa_id), burst, 1 / interval if interval else 0, now)
        if pair is not None and pair.tokens < 1:
            return 131056, pair.retry_after()
        for bucket in (number, pair):
            if bucket is not None:
                bucket.tokens -= 1
        if len(self.pairs) > PRUNE_ABOVE:
            self._prune(now)
        return None

    def _prune(self, now: float) -> None:
        for key in [k for k, b in self.pairs.items() if b.refill(now) >= b.capacity]:
            del self.pairs[key]

    def clear(self) -> None:
        self.throughput.clear()
        self.pairs.clear()
