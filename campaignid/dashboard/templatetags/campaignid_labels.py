"""Template filters that show stored codes (failure categories) in the officer's language."""

from __future__ import annotations

from django import template

from campaignid.distribution.models import NOT_SENT_CATEGORIES

from ..labels import category_label

register = template.Library()


@register.filter
def category(code: str) -> str:
    """A failure category in the officer's language ("" when there is none)."""
    return category_label(code) if code else ""


@register.filter
def not_sent(category_code: str) -> bool:
    """Whether a failed delivery was skipped before any send (no phone number, opted out)."""
    return category_code in NOT_SENT_CATEGORIES
