"""Template filters that show stored codes (failure categories) in the officer's language."""

from __future__ import annotations

from django import template

from campaignid.distribution.models import NOT_SENT_CATEGORIES

from ..labels import CATEGORIES as CATEGORY_CODES
from ..labels import category_label, detail_label, event_label, source_label

register = template.Library()


@register.filter
def category(code: str) -> str:
    """A failure category in the officer's language ("" when there is none)."""
    return category_label(code) if code else ""


@register.filter
def not_sent(category_code: str) -> bool:
    """Whether a failed delivery was skipped before any send (no phone number, opted out)."""
    return category_code in NOT_SENT_CATEGORIES


@register.filter
def event(code: str) -> str:
    return event_label(code)


@register.filter
def source(code: str) -> str:
    return source_label(code)


@register.filter
def detail_key(code: str) -> str:
    return detail_label(code)


@register.filter
def detail_value(value) -> str:
    """A detail's value in words: booleans as yes / no, failure categories by their label."""
    from django.utils.translation import gettext as _

    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return category_label(value) if isinstance(value, str) and value in CATEGORY_CODES else str(value)
