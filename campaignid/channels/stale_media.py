"""Cached card uploads that a provider no longer accepts, shared by every worker through the database.

The status webhook that reports the failure (WhatsApp's asynchronous 131053) is received by a web process,
while the media cache lives in each worker: ``record`` writes one row, ``apply_recorded`` (called before
each chunk of sends) makes this process forget the uploads recorded since it last looked.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from django.utils import timezone

from . import registry
from .models import StaleMedia

KEEP = timedelta(days=31)  # longer than any cached upload lives
_seen = {"at": None}
_lock = threading.Lock()


def record(kind: str, cards: list[tuple[str, int]]) -> None:
    StaleMedia.objects.bulk_create([StaleMedia(channel=kind, card_code=code, card_version=version)
                                    for code, version in set(cards)])
    for code, version in set(cards):  # this process at once; the others before their next chunk
        registry.channel_class(kind).forget_card_media(code, version)


def apply_recorded() -> int:
    """Forget, in this process, every upload recorded stale since the last call; returns how many."""
    with _lock:
        since = _seen["at"]
        now = timezone.now()
        _seen["at"] = now
    qs = StaleMedia.objects.filter(created_at__gt=since or now - KEEP, created_at__lte=now)
    rows = list(qs.values_list("channel", "card_code", "card_version"))
    for kind, code, version in rows:
        registry.channel_class(kind).forget_card_media(code, version)
    return len(rows)


def prune(now=None) -> int:
    return StaleMedia.objects.filter(created_at__lt=(now or timezone.now()) - KEEP).delete()[0]
