"""Process-level cache of uploaded card media IDs, so a resend of the same card version reuses its upload.

Keyed by (Graph URL, phone number ID, card code, card version). Meta keeps an uploaded media ID for 30
days; entries live one day less so a cached ID is never used at the edge of its life. A plain
``threading.Lock`` guards the map and is never held across an ``await``, so the cache is safe for
Huey's worker threads and for the engine's one-event-loop-per-chunk. Two concurrent first sends of the
same card may both upload (harmless: the second ID wins). If Meta no longer knows a cached ID, the
channel forgets it and uploads again once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from .codes import MEDIA_LIFETIME_S

SAFETY_MARGIN_S = 24 * 3600
MAX_ENTRIES = 100_000

Key = tuple[str, str, str, int]


class MediaCache:
    def __init__(self, lifetime_s: float = MEDIA_LIFETIME_S - SAFETY_MARGIN_S, max_entries: int = MAX_ENTRIES,
                 clock=time.monotonic) -> None:
        self.lifetime_s, self.max_entries, self.clock = lifetime_s, max_entries, clock
        self._items: OrderedDict[Key, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> str | None:
        now = self.clock()
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            if found[1] <= now:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Key, media_id: str) -> None:
        expires = self.clock() + self.lifetime_s
        with self._lock:
            self._items[key] = (media_id, expires)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def forget(self, key: Key) -> None:
        with self._lock:
            self._items.pop(key, None)

    def forget_card(self, code: str, version: int) -> int:
        """Forget this card version's uploads on every number (Meta failed a send using one: 131053)."""
        with self._lock:
            keys = [k for k in self._items if k[2] == code and k[3] == version]
            for key in keys:
                del self._items[key]
        return len(keys)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


MEDIA_CACHE = MediaCache()
