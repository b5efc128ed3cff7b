"""WhatsApp Cloud API constants and the Graph error code table: code → category and retry decision.

The same table maps synchronous errors (the Graph error envelope of an HTTP answer) and asynchronous
ones (``errors[0]`` of a ``failed`` status webhook). Always keyed on the numeric ``code``, never on the
title text, which Meta is deprecating.

Retry policy (decided once, here):
- rate limits (130429, 4, 80007, 133016) are ``throttled``: they slow the account's pace and never count
  as a failed attempt; the wait comes from ``Retry-After`` / ``X-Business-Use-Case-Usage`` when given;
- the pair limit 131056 delays only that recipient (``scope="recipient"``, about 6 s per pair);
- every ``scope="account"`` error (auth 0/190, permissions 3/10/200–299/131005, policy blocks
  131048/368/131031, billing 131042, certificate 131045) is ``retryable=True``: the engine pauses the
  number and alerts, and the message waits pending until the account is fixed instead of failing;
- Meta-side outages (5xx, 1, 2, 131000, 131016, 131057) are retryable ``provider_down``;
- everything else is permanent for this message (not on WhatsApp, outside the 24 h window, template,
  media, malformed request, invalid number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from campaignid.channels.base import SendError
from campaignid.lib.mask import mask_phone

MESSAGING_PRODUCT = "whatsapp"
MAX_CAPTION = 1024  # image caption limit
MAX_TEXT = 4096  # text message body limit
MEDIA_LIFETIME_S = 30 * 24 * 3600  # uploaded media IDs are valid for 30 days
# Meta's webhook status words → our public statuses (``played`` is a voice message heard: read).
STATUS_MAP = {"sent": "sent", "delivered": "delivered", "read": "read", "played": "read", "failed": "failed"}
USAGE_HEADER = "X-Business-Use-Case-Usage"

_LONG_NUMBER = re.compile(r"\+?\d{8,15}")


@dataclass(frozen=True)
class Rule:
    category: str
    explanation: str
    retryable: bool = False
    scope: str = "message"
    throttled: bool = False
    retry_after: float | None = None  # default wait (seconds) when the answer gives none


def _account(category: str, explanation: str) -> Rule:
    return Rule(category, explanation, retryable=True, scope="account")


def _down(explanation: str, retry_after: float | None = None) -> Rule:
    return Rule("provider_down", explanation, retryable=True, retry_after=retry_after)


def _throttle(explanation: str, retry_after: float) -> Rule:
    return Rule("rate_limited", explanation, retryable=True, throttled=True, retry_after=retry_after)


def _template(explanation: str) -> Rule:
    return Rule("template", explanation)


RULES: dict[int, Rule] = {
    # Throttling
    130429: _throttle("WhatsApp throughput limit of this number reached; pace lowered.", 1.0),
    4: _throttle("Application request limit reached; waiting before sending again.", 60.0),
    80007: _throttle("WhatsApp Business Account rate limit reached; waiting before sending again.", 60.0),
    133016: _throttle("Registration rate limit reached.", 3600.0),
    131056: Rule("recipient_rate_limited", "Too many messages to this recipient in a short time; retried later.",
                 retryable=True, scope="recipient", throttled=True, retry_after=6.0),
    131049: Rule("recipient_rate_limited", "Meta chose not to deliver now (per-user limit); retried after 24 h.",
                 retryable=True, scope="recipient", retry_after=24 * 3600.0),
    # Provider outages
    1: _down("Meta API unknown error; retried."),
    2: _down("Meta API service temporarily unavailable; retried."),
    131000: _down("Meta could not process the message (generic error); retried."),
    131016: _down("WhatsApp service unavailable; retried."),
    131057: _down("The business number is in maintenance (e.g. a throughput upgrade); retried.", 60.0),
    # Recipient
    131026: Rule("not_on_whatsapp", "Undeliverable: the number has no WhatsApp account, an old app, or has "
                                    "not accepted the terms (SMS fallback possible)."),
    131047: Rule("outside_24h_window", "Free-form message outside the 24-hour window; send an approved template."),
    131021: Rule("invalid_number", "The recipient is the sending business number."),
    131030: Rule("invalid_number", "The recipient is not in the test number's allowed list (at most 5 numbers)."),
    # Account: pause the number and alert; the message waits
    0: _account("auth", "Meta refused the access token; rotate it in the channel settings."),
    190: _account("auth", "The access token has expired or is invalid; rotate it in the channel settings."),
    3: _account("permission", "The app lacks the capability for this call."),
    10: _account("permission", "Permission denied: the token lacks whatsapp_business_messaging."),
    131005: _account("permission", "Access denied for this phone number."),
    131048: _account("account_restricted", "Spam rate limit: the number's quality is restricted; campaign paused, "
                                           "check the quality rating before resuming."),
    368: _account("account_restricted", "The account is temporarily blocked for policy violations."),
    131031: _account("account_restricted", "The business account has been locked."),
    131042: _account("quota_exhausted", "Billing or payment problem on the business account."),
    131045: _account("configuration", "Phone number registration or certificate error; re-register the number."),
    130497: Rule("permission", "The business account may not message users in this country."),
    # Templates
    132000: _template("The number of template parameters does not match the approved template; check "
                      "template_parameters."),
    132001: _template("The template does not exist in this language or is not approved; check template_name "
                      "and template_language."),
    132005: _template("The template text is too long once the parameters are filled in."),
    132007: _template("The template content violates WhatsApp's policy."),
    132012: _template("A template parameter has the wrong format (e.g. the header expects an IMAGE)."),
    132015: _template("The template is paused for low quality."),
    132016: _template("The template is disabled for low quality."),
    132018: _template("The template parameters were rejected."),
    # Media
    131052: Rule("media", "Meta could not download the card image."),
    131053: Rule("media", "Meta could not process the uploaded card image."),
    # Malformed requests
    100: Rule("invalid_request", "Invalid parameter in the request."),
    131008: Rule("invalid_request", "A required parameter is missing."),
    131009: Rule("invalid_request", "A parameter value is not valid."),
    131051: Rule("invalid_request", "Unsupported message type."),
}
for _code in range(200, 300):
    RULES.setdefault(_code, _account("permission", "The system user cannot reach this WhatsApp asset."))


def rule_for(code: int | None, http_status: int | None = None, transient: bool = False) -> Rule:
    """The rule of a Graph error ``code``; unknown codes are judged by the HTTP status."""
    if code is not None and code in RULES:
        return RULES[code]
    status = http_status or 0
    if status == 429:
        return _throttle("The provider asked us to slow down.", 1.0)
    if status in (408, 504):
        return Rule("timeout", "The provider did not answer in time; retried.", retryable=True)
    if status >= 500 or transient:
        return _down("The provider is unavailable; retried.")
    if status == 401:
        return _account("auth", "The provider refused our credentials.")
    if status == 403:
        return _account("permission", "The provider refused the call (forbidden).")
    return Rule("undeliverable", "The provider could not deliver the message.")


def clean_detail(text: object, limit: int = 300) -> str:
    """Provider detail text, safe for logs and the dashboard: phone-like numbers masked, length bounded."""
    value = _LONG_NUMBER.sub(lambda m: mask_phone(m.group(0)), str(text or ""))
    return value[:limit]


def send_error(code: int | None, details: str = "", *, http_status: int | None = None, transient: bool = False,
               retry_after: float | None = None, fallback_code: str = "") -> SendError:
    """The one ``SendError`` for a Graph error code (or HTTP status when there is no code)."""
    rule = rule_for(code, http_status, transient)
    message = rule.explanation + (f" ({clean_detail(details)})" if details else "")
    wait = retry_after if retry_after is not None else rule.retry_after
    if not rule.retryable:
        wait = None
    label = str(code) if code is not None else (fallback_code or f"http_{http_status}")
    return SendError(label, rule.category, message, retryable=rule.retryable, retry_after=wait, scope=rule.scope,
                     throttled=rule.throttled)


def timeout_error() -> SendError:
    return SendError("timeout", "timeout", "WhatsApp did not answer in time; retried.", retryable=True,
                     ambiguous=True)


def connection_error(exc: BaseException) -> SendError:
    """Refused before connecting: nothing was sent; a reset later may have left the message with Meta."""
    import aiohttp

    return SendError("connection_error", "provider_down", f"Could not reach WhatsApp ({type(exc).__name__}).",
                     retryable=True, ambiguous=not isinstance(exc, aiohttp.ClientConnectorError))
