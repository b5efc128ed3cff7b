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


EVENTS = {
    "created": _("created"), "attempt": _("send attempt"), "accepted": _("accepted by the provider"),
    "status": _("status change"), "deferred": _("deferred"), "retry_scheduled": _("retry scheduled"),
    "late_error": _("late error"), "fallback": _("fallback to another channel"), "issued": _("issued"),
    "revoked": _("revoked"), "outcome_unknown": _("outcome unknown (no answer from the provider)"),
    "returned_unsent": _("returned unsent"),
    "retry_requested": _("retry requested"),
}
SOURCES = {
    "api": _("API or dashboard"), "batch": _("distribution"), "dispatch": _("sending"), "webhook": _("provider"),
    "engine": _("distribution"), "demo": _("demo"), "sweeper": _("automatic check"),
    "reprint": _("reprint"),
    "retry": _("retry of failures"),
}
DETAILS = {
    "actor": _("by"), "to_channel": _("to channel"),
    "attempt": _("attempt"), "error_category": _("reason"), "provider_status": _("provider status"),
    "billable": _("billed"), "category": _("pricing category"), "message_status": _("provider answer"),
    "retry_at": _("retry at"), "code": _("code"), "segments": _("SMS units"), "text_truncated": _("text shortened"),
    "error_code": _("provider code"), "error_detail": _("provider message"), "retryable": _("will be retried"),
    "decision": _("decision"), "batch_state": _("distribution state"), "provider_message_id": _("provider message ID"),
    "replaces": _("replaces message ID"),
    "next_attempt_at": _("next attempt"), "in_doubt_since": _("outcome unknown since"), "to": _("to"),
}
# Stored words that a detail's value may hold (statuses, batch states, decisions, pricing categories).
VALUES = {
    "pending": _("pending"), "sent": _("sent"), "delivered": _("delivered"), "read": _("read"), "failed": _("failed"),
    "scheduled": _("scheduled"), "queued": _("queued"), "running": _("running"), "paused": _("paused"),
    "cancelled": _("cancelled"), "completed": _("completed"), "accepted": _("accepted"),
    "resend_after_unknown": _("sent again (no answer to the previous attempt)"),
    "utility": _("utility"), "marketing": _("marketing"), "authentication": _("authentication"),
    "service": _("service"),
}
SYNC_STATUSES = {
    "queued": _("queued"), "running": _("running"), "success": _("succeeded"), "partial": _("partly imported"),
    "failed": _("failed"),
}


def event_label(code: str) -> str:
    return str(EVENTS.get(code, code))


def source_label(code: str) -> str:
    return str(SOURCES.get(code, code))


def detail_label(code: str) -> str:
    return str(DETAILS.get(code, code.replace("_", " ")))


def category_label(code: str) -> str:
    return str(CATEGORIES.get(code, code or _("unknown")))


def value_label(value) -> str:
    """A stored detail value in words: yes / no, failure categories and stored words by their label."""
    if value is True:
        return str(_("yes"))
    if value is False:
        return str(_("no"))
    if isinstance(value, str) and value in CATEGORIES:
        return str(CATEGORIES[value])
    return str(VALUES.get(value, value)) if isinstance(value, str) else str(value)


def sync_status_label(code: str) -> str:
    return str(SYNC_STATUSES.get(code, code))
