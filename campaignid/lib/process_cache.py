"""A value shared by every thread and event loop of the process, fetched at most once at a time
(single flight): the first caller fetches, the others wait on a ``concurrent.futures.Future`` (awaitable
from any loop); no asyncio lock is shared across loops. Used for provider access tokens and keys."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class ProcessCache:
    """Values shared by every thread and event loop of the process, each fetched at most once at a time."""

    def __init__(self, wrap_error: Callable[[BaseException], BaseException] | None = None) -> None:
        self.wrap_error = wrap_error  # what waiters get when the fetch failed (e.g. a provider's error type)
        self._lock = threading.Lock()  # never held across an await
        self._values: dict[Hashable, tuple[Any, float]] = {}
        self._inflight: dict[Hashable, concurrent.futures.Future] = {}

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def forget(self, key: Hashable, value: Any = None) -> None:
        """Drop ``key`` (only if it still holds ``value``, when given: a newer value is kept)."""
        with self._lock:
            hit = self._values.get(key)
            if hit is not None and (value is None or hit[0] == value):
                del self._values[key]

    async def get(self, key: Hashable, fetch: Callable[[], Awaitable[tuple[Any, float]]]) -> Any:
        """The cached value, or ``fetch()`` → (value, seconds to keep it) run once for every caller."""
        with self._lock:
            hit = self._values.get(key)
            if hit is not None and hit[1] > time.monotonic():
                return hit[0]
            future = self._inflight.get(key)
            owner = future is None
            if owner:
                future = self._inflight[key] = concurrent.futures.Future()
        if not owner:
            # shield: a waiter being cancelled must not cancel the fetch other callers wait for
            return await asyncio.shield(asyncio.wrap_future(future))
        try:
            value, keep = await fetch()
        except BaseException as exc:
            with self._lock:
                self._inflight.pop(key, None)
            future.set_exception(exc if self.wrap_error is None else self.wrap_error(exc))
            raise
        with self._lock:
            self._values[key] = (value, time.monotonic() + keep)
            self._inflight.pop(key, None)
        future.set_result(value)
        return value
