"""Failure categories in the officer's language (the codes stay as they are in logs and exports)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CATEGORIES = {
    "invalid_number": _("Invalid number"),
    "not_on_whatsapp": _("Not on WhatsApp"),
    "outside_24h_window": _("Outside the 24-hour window"),
    "rate_limited": _("Slowed down by the provider"),
    "recipient_rate_limited": _("Too many messages to this person"),
    "quota_exhausted": _("Quota or SMS bundle exhausted"),
    "auth": _("Credentials refused"),
    "permission": _("Missing permission or approval"),
    "account_restricted": _("Sending account restricted"),
    "template": _("Message template problem"),
    "media": _("Card image problem"),
    "invalid_request": _("Request refused as malformed"),
    "no_sms_route": _("No SMS route for this country"),
    "undeliverable": _("Could not be delivered"),
    "provider_down": _("Provider unavailable"),
    "timeout": _("Provider did not answer in time"),
    "opted_out": _("Opted out of messages"),
    "no_recipient": _("No phone number"),
    "configuration": _("Channel not configured"),
    "expired": _("Not delivered in time"),
    "cancelled": _("Cancelled before sending"),
}


def category_label(code: str) -> str:
    return str(CATEGORIES.get(code, code or _("unknown")))
