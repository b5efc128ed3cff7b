"""What happens after a delivery fails for good: a "not on WhatsApp" answer is learned (``reachability``), then
the card falls back to the next channel of its batch.

The engine fills this in; callbacks and the sender both call it, so a failure reported late by a
provider (e.g. WhatsApp 131026 in a status webhook) triggers the same fallback as a synchronous one.
"""

from __future__ import annotations


def after_failure(deliveries) -> None:
    from . import reachability
    from .engine import schedule_fallbacks

    deliveries = list(deliveries)
    reachability.learn(deliveries)
    schedule_fallbacks(deliveries)
