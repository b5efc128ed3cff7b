"""Orange answers → ``SendError``, the retry decision taken here once.

Two error envelopes exist:
- OneAPI ``{"requestError": {"serviceException"|"policyException": {"messageId", "text", "variables"}}}``,
  where ``variables`` is an array or a single string and ``%1``, ``%2``… in ``text`` refer to it;
- the API gateway's ``{"code": <int>, "message", "description"}`` (401 codes 40/41/42, 429 code 53…).

| answer                                 | category          | decision                                     |
|----------------------------------------|-------------------|----------------------------------------------|
| 400 SVC0002-4 on the recipient address | invalid_number    | permanent                                    |
| 400 SVC0001-4 otherwise, SVC0280       | invalid_request   | permanent                                    |
| 403 POL0001… bundle / balance / units  | quota_exhausted   | account paused until an admin acts; retried  |
| 403 POL0001… sender name not allowed   | permission        | idem                                         |
| 403 POL0003 (too many addresses)       | invalid_request   | permanent                                    |
| 403 POL other, gateway 403             | account_restricted / permission | account paused; retried        |
| 401 codes 40/41/42 (after one refresh) | auth              | account paused; retried                      |
| 404                                    | configuration     | account paused (wrong URL or no subscription)|
| 429                                    | rate_limited      | throttled, retried after Retry-After         |
| 5xx, connection errors / timeouts      | provider_down / timeout | retried with backoff                   |
"""

from __future__ import annotations

import re
from typing import Any

from campaignid.channels.base import SendError
from campaignid.lib.mask import mask_phone

TOKEN_REJECTED = {40, 41, 42}
DUPLICATE = "SVC0005"
ADDRESS_PARTS = {"address", "addresses", "recipient"}
QUOTA_WORDS = ("balance", "bundle", "unit", "credit", "expired", "insufficient", "contract", "quota")
SENDER_WORDS = ("sender",)
PHONE = re.compile(r"\+?\d{7,15}")


def variables(exc: dict[str, Any]) -> list[str]:
    """``variables`` as a list whether Orange sent an array, a string or nothing."""
    raw = exc.get("variables")
    if raw is None:
        return []
    if isinstance(raw, (list, tuple)):
        return [str(v) for v in raw]
    return [str(raw)]


def oneapi_exception(body: Any) -> tuple[str, dict[str, Any]] | None:
    """("service"|"policy", exception) from a OneAPI error envelope, or None."""
    if not isinstance(body, dict) or not isinstance(body.get("requestError"), dict):
        return None
    for kind in ("serviceException", "policyException"):
        exc = body["requestError"].get(kind)
        if isinstance(exc, dict):
            return kind.removesuffix("Exception"), exc
    return None


def gateway_code(body: Any) -> int | None:
    if isinstance(body, dict) and "code" in body:
        try:
            return int(body["code"])
        except (TypeError, ValueError):
            return None
    return None


def _masked(text: str) -> str:
    return PHONE.sub(lambda m: mask_phone(m.group(0)), text)


def describe(exc: dict[str, Any]) -> str:
    """The exception's text with ``%1``… filled from ``variables`` (phone numbers masked)."""
    text = str(exc.get("text") or "")
    values = variables(exc)
    for index, value in reversed(list(enumerate(values, start=1))):
        text = text.replace(f"%{index}", value)
    if values and not text:
        text = ", ".join(values)
    return _masked(f"{exc.get('messageId', '')}: {text}".strip(": "))[:300]


def is_token_rejected(status: int, body: Any) -> bool:
    return status == 401 and (gateway_code(body) in TOKEN_REJECTED or gateway_code(body) is None)


def is_duplicate(status: int, body: Any) -> bool:
    found = oneapi_exception(body)
    return status == 409 and found is not None and found[1].get("messageId") == DUPLICATE


def retry_after(headers: Any) -> float | None:
    try:
        value = float(headers.get("Retry-After", ""))
    except (TypeError, ValueError, AttributeError):
        return None
    return max(0.0, value)


# Policy refusals that concern one country of the app (its bundle, its approved sender names).
PER_COUNTRY = frozenset({"quota_exhausted", "permission"})


def _service_error(exc: dict[str, Any]) -> SendError:
    code = str(exc.get("messageId") or "SVC")
    on_address = any(v.strip().lower() in ADDRESS_PARTS for v in variables(exc))
    if code in ("SVC0002", "SVC0003", "SVC0004") and on_address:
        return SendError(code, "invalid_number", describe(exc))
    return SendError(code, "invalid_request", describe(exc))


def _policy_error(exc: dict[str, Any]) -> SendError:
    code = str(exc.get("messageId") or "POL")
    detail = describe(exc)
    if code == "POL0003":
        return SendError(code, "invalid_request", detail)
    reason = detail.lower()
    if any(word in reason for word in QUOTA_WORDS):
        category = "quota_exhausted"
    elif any(word in reason for word in SENDER_WORDS):
        category = "permission"
    else:
        category = "account_restricted"
    return SendError(code, category, detail, retryable=True, scope="account")


def _gateway_error(status: int, body: Any, headers: Any) -> SendError:
    code = gateway_code(body)
    label = f"http_{status}" if code is None else f"{status}/{code}"
    detail = _masked(str(body.get("message") or "") if isinstance(body, dict) else "")[:300]
    after = retry_after(headers)
    if status == 429:
        return SendError(label, "rate_limited", detail, retryable=True, retry_after=after, throttled=True)
    if status >= 500:
        return SendError(label, "provider_down", detail, retryable=True, retry_after=after)
    if status == 401:
        return SendError(label, "auth", detail or "Orange refused the credentials.", retryable=True, scope="account")
    if status == 403:
        return SendError(label, "permission", detail, retryable=True, scope="account")
    if status == 404:
        return SendError(label, "configuration", detail or "Orange API path not found: check api_url.",
                         retryable=True, scope="account")
    return SendError(label, "invalid_request", detail)


def from_response(status: int, body: Any, headers: Any = None) -> SendError:
    """The ``SendError`` for a non-success answer (``body``: decoded JSON, or None)."""
    found = oneapi_exception(body)
    if found is not None and status not in (401, 429) and status < 500:
        kind, exc = found
        return _policy_error(exc) if kind == "policy" else _service_error(exc)
    return _gateway_error(status, body, headers or {})


def token_error(status: int, body: Any, headers: Any = None) -> SendError:
    """A failure of the token endpoint (credentials refused, gateway down…)."""
    if status in (400, 401, 403):
        detail = str(body.get("message") or "") if isinstance(body, dict) else ""
        return SendError(f"token_{status}", "auth", detail or "Orange refused the app credentials.",
                         retryable=True, scope="account")
    return from_response(status, body, headers)
