"""Template filters that show stored codes (failure categories) in the officer's language."""

from __future__ import annotations

from django import template

from campaignid.distribution.models import CHANNELS, NOT_SENT_CATEGORIES

from ..labels import category_label, detail_label, event_label, source_label, sync_status_label, value_label

register = template.Library()
CHANNEL_NAMES = dict(CHANNELS)


@register.filter
def category(code: str) -> str:
    """A failure category in the officer's language ("" when there is none)."""
    return category_label(code) if code else ""


@register.filter
def not_sent(category_code: str) -> bool:
    """Whether a failed delivery was skipped before any send (no phone number, opted out)."""
    return category_code in NOT_SENT_CATEGORIES


# Stored codes shown by their label: event kinds, sources, detail keys and values, DHIS2 sync statuses.
for _name, _label in (("event", event_label), ("source", source_label), ("detail_key", detail_label),
                      ("detail_value", value_label), ("sync_status", sync_status_label)):
    register.filter(_name, _label)


@register.filter
def channel(code: str) -> str:
    """A channel by its name (WhatsApp, SMS, Google Wallet, Impression)."""
    return str(CHANNEL_NAMES.get(code, code))
