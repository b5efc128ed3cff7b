"""Graph API error envelope and the WhatsApp Cloud API error code table.

Synchronous errors are returned as ``{"error": {...}}`` with the HTTP status of Meta's table;
asynchronous ones travel in ``statuses[].errors[]`` of a ``failed`` status webhook.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from aiohttp import web

DOCS_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
TRACE_ALPHABET = string.ascii_letters + string.digits + "-_"

# code: (HTTP status, title, is_transient)
CODES: dict[int, tuple[int, str, bool]] = {
    0: (401, "AuthException", False),
    1: (400, "API Unknown", True),
    2: (503, "API Service", True),
    3: (500, "API Method", False),
    4: (400, "Application request limit reached", True),
    10: (403, "Permission Denied", False),
    100: (400, "Invalid parameter", False),
    190: (401, "Access token has expired", False),
    200: (403, "API Permission", False),
    368: (403, "Temporarily blocked for policies violations", False),
    80007: (400, "Rate limit issues", True),
    130429: (400, "Rate limit hit", True),
    130497: (400, "Business account is restricted from messaging users in this country", False),
    131000: (500, "Something went wrong", True),
    131005: (403, "Access denied", False),
    131008: (400, "Required parameter is missing", False),
    131009: (400, "Parameter value is not valid", False),
    131016: (500, "Service unavailable", True),
    131021: (400, "Recipient cannot be sender", False),
    131026: (400, "Message Undeliverable", False),
    131030: (400, "Recipient phone number not in allowed list", False),
    131031: (403, "Account has been locked", False),
    131042: (400, "Business eligibility payment issue", False),
    131045: (500, "Incorrect certificate", False),
    131047: (400, "Re-engagement message", False),
    131048: (400, "Spam rate limit hit", False),
    131049: (400, "Meta chose not to deliver.", False),
    131051: (400, "Unsupported message type", False),
    131052: (400, "Media download error", False),
    131053: (400, "Media upload error", False),
    131056: (400, "(Business Account, Consumer Account) pair rate limit hit", True),
    131057: (500, "Account in maintenance mode", True),
    132000: (400, "Number of parameters does not match the expected number of params", False),
    132001: (404, "Template name does not exist in the translation", False),
    132005: (400, "Translated text too long", False),
    132007: (400, "Template Format Character Policy Violated", False),
    132012: (400, "Parameter format does not match format in the created template", False),
    132015: (400, "Template is Paused", False),
    132016: (400, "Template is Disabled", False),
    132018: (400, "There was an issue with the parameters in your template", False),
    133016: (400, "Account register deregister rate limit exceeded", False),
}

DEFAULT_DETAILS: dict[int, str] = {
    4: "Application request limit reached. Retry after the time given in X-Business-Use-Case-Usage.",
    190: "The access token could not be decrypted or has expired.",
    368: "The WhatsApp Business Account is temporarily blocked for policy violations.",
    80007: "The WhatsApp Business Account has reached its rate limit.",
    130429: "Cloud API message throughput has been reached.",
    131000: "Something went wrong while processing the message. Retry later.",
    131026: "Message could not be delivered: the recipient is not a WhatsApp user or cannot receive it.",
    131031: "The Business Account has been locked.",
    131047: ("Message failed to send because more than 24 hours have passed since the customer last "
             "replied to this number."),
    131048: "Message failed to send because there are restrictions on how many messages can be sent "
            "from this phone number.",
    131053: "Unable to upload the media used in the message.",
    131056: "Too many messages sent from this phone number to the same phone number in a short period.",
}

# Codes that only ever arrive in a `failed` status webhook when injected as faults.
ASYNC_ONLY = frozenset({131049, 131053})
# Throttling codes that carry the X-Business-Use-Case-Usage header.
USAGE_HEADER_CODES = frozenset({4, 80007})


def fbtrace_id() -> str:
    return "A" + "".join(secrets.choice(TRACE_ALPHABET) for _ in range(22))


class GraphError(Exception):
    """A Graph API error, rendered as Meta's envelope with the HTTP status of the code table."""

    def __init__(self, code: int, details: str = "", *, message: str | None = None, http: int | None = None,
                 subcode: int | None = None, type_: str = "OAuthException",
                 headers: dict[str, str] | None = None) -> None:
        status, title, transient = CODES.get(code, (400, "Unknown error", False))
        self.code = code
        self.title = title
        self.details = details or DEFAULT_DETAILS.get(code, title)
        self.message = message or f"(#{code}) {title}"
        self.http = http or status
        self.subcode = subcode
        self.type = type_
        self.transient = transient
        self.headers = dict(headers or {})
        super().__init__(self.message)

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message": self.message,
            "type": self.type,
            "code": self.code,
            "error_data": {"messaging_product": "whatsapp", "details": self.details},
        }
        if self.subcode is not None:
            body["error_subcode"] = self.subcode
        if self.transient:
            body["is_transient"] = True
        body["fbtrace_id"] = fbtrace_id()
        return {"error": body}


def graph_json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response serialised compactly, as graph.facebook.com answers."""
    return web.json_response(payload, status=status, headers=headers, dumps=compact_dumps)


def compact_dumps(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"))


def error_response(err: GraphError) -> web.Response:
    headers = {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token"'} if err.http == 401 else {}
    headers.update(err.headers)
    return graph_json(err.envelope(), status=err.http, headers=headers)


def usage_header(business_id: str, minutes: int = 1) -> dict[str, str]:
    usage = {business_id: [{"type": "whatsapp", "call_count": 100, "total_cputime": 1, "total_time": 1,
                            "estimated_time_to_regain_access": minutes}]}
    return {"X-Business-Use-Case-Usage": json.dumps(usage, separators=(",", ":"))}


def async_error(code: int, details: str = "") -> dict[str, Any]:
    """The ``errors[]`` item of a ``failed`` status webhook."""
    _, title, _ = CODES.get(code, (400, "Unknown error", False))
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or DEFAULT_DETAILS.get(code, title)},
        "href": DOCS_HREF,
    }


def missing(param: str) -> GraphError:
    return GraphError(100, f"The parameter {param} is required.", message=f"(#100) The parameter {param} is required.")


def invalid(details: str) -> GraphError:
    return GraphError(100, details, message=f"(#100) {details}")


def unknown_object(node: str, method: str = "post") -> GraphError:
    text = (f"Unsupported {method} request. Object with ID '{node}' does not exist, cannot be loaded due to "
            "missing permissions, or does not support this operation.")
    return GraphError(100, text, message=text, subcode=33, type_="GraphMethodException")
