"""Google answers → ``SendError``: the category, the retry decision and its scope, decided here once.

| answer                                  | category         | retry | scope    | notes                               |
|-----------------------------------------|------------------|-------|----------|-------------------------------------|
| 400 (invalid id, field, class, date…)   | invalid_request  | no    | message  | Google's message is kept            |
| 401 (bad or expired token)              | auth             | (1)   | account  | after one token refresh             |
| 403 permissionDenied / scopes           | auth             | (1)   | account  | hint: add the SA in the console     |
| 404 (object or class missing)           | invalid_request  | no    | message  |                                     |
| 409 on insert                           | —                | —     | —        | never raised: the object is patched |
| 429 RESOURCE_EXHAUSTED                  | rate_limited     | yes   | message  | throttled; Retry-After or 1 s       |
| 5xx                                     | provider_down    | yes   | message  | backoff by the caller               |
| timeout / connection error              | timeout / provider_down | yes | message |                                  |
| token endpoint 400 invalid_grant…       | auth             | (1)   | account  | the key is wrong or revoked         |
| no usable key (configuration)           | configuration    | (1)   | account  |                                     |

(1) ``retryable`` with ``scope="account"``: the engine pauses the account, alerts an administrator, and
the messages wait instead of failing, until the account is fixed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp

from ..base import SendError

DEFAULT_RETRY_AFTER = 1.0
CONSOLE_HINT = ("Add the service account {email} as a user (Developer) of issuer {issuer} in the Google Pay & "
                "Wallet Console; a Cloud IAM role alone is not enough.")


def envelope(body: Any) -> tuple[str, str]:
    """(reason, message) from Google's ``{"error": {"code", "message", "errors": [{"reason"}]}}``."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return "", ""
    reasons = [e.get("reason", "") for e in error.get("errors") or [] if isinstance(e, Mapping)]
    return str(reasons[0] if reasons else error.get("status", "")), str(error.get("message", ""))


def retry_after(headers: Mapping[str, str] | None, default: float | None = None) -> float | None:
    try:
        value = float((headers or {}).get("Retry-After", ""))
    except ValueError:
        return default
    return value if value >= 0 else default


def _code(status: int, reason: str) -> str:
    return f"{status}:{reason}"[:40] if reason else str(status)


def api_error(status: int, body: Any, headers: Mapping[str, str] | None, *, email: str = "",
              issuer: str = "") -> SendError:
    """Map a Wallet REST error answer."""
    reason, message = envelope(body)
    code = _code(status, reason)
    detail = message or f"Google Wallet answered HTTP {status}."
    if status == 429:
        return SendError(code, "rate_limited", detail, retryable=True, throttled=True,
                         retry_after=retry_after(headers, DEFAULT_RETRY_AFTER))
    if status >= 500:
        return SendError(code, "provider_down", detail, retryable=True, retry_after=retry_after(headers))
    if status == 403:
        hint = CONSOLE_HINT.format(email=email or "of this channel", issuer=issuer or "(issuer ID)")
        return SendError(code, "auth", f"{detail} {hint}", retryable=True, scope="account")
    if status == 401:
        return SendError(code, "auth", f"{detail} The access token was refused twice; check the service-account "
                                       "key.", retryable=True, scope="account")
    return SendError(code, "invalid_request", detail)


def token_error(status: int, body: Any, headers: Mapping[str, str] | None) -> SendError:
    """Map an OAuth token endpoint error (``{"error", "error_description"}``)."""
    error = str(body.get("error", "")) if isinstance(body, Mapping) else ""
    description = str(body.get("error_description", "")) if isinstance(body, Mapping) else ""
    code = f"oauth:{error}"[:40] if error else f"oauth:{status}"
    if status == 429:
        return SendError(code, "rate_limited", description or "Token endpoint rate limit.", retryable=True,
                         throttled=True, retry_after=retry_after(headers, DEFAULT_RETRY_AFTER))
    if status >= 500:
        return SendError(code, "provider_down", description or f"Token endpoint answered HTTP {status}.",
                         retryable=True, retry_after=retry_after(headers))
    return SendError(code, "auth", f"Google refused the service-account key ({error or status}: {description}). "
                                   "Check GOOGLE_WALLET_SERVICE_ACCOUNT_JSON.", retryable=True, scope="account")


def network_error(exc: BaseException, what: str) -> SendError:
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return SendError("timeout", "timeout", f"Google {what} did not answer in time.", retryable=True)
    return SendError("connection", "provider_down", f"Google {what} unreachable: {type(exc).__name__}.",
                     retryable=True)


def configuration(message: str) -> SendError:
    return SendError("configuration", "configuration", message, retryable=True, scope="account")
