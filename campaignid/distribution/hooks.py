"""What happens after a delivery fails for good: fallback to the next channel of its batch.

The engine fills this in; callbacks and the sender both call it, so a failure reported late by a
provider (e.g. WhatsApp 131026 in a status webhook) triggers the same fallback as a synchronous one.
"""

from __future__ import annotations


def after_failure(deliveries) -> None:
    from .engine import schedule_fallbacks

    schedule_fallbacks(deliveries)
