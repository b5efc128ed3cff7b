"""One authenticated Graph call and the mapping of a non-200 answer to ``SendError``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from campaignid.channels.base import SendError

from .codes import USAGE_HEADER, connection_error, send_error, timeout_error


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds) or ``X-Business-Use-Case-Usage`` (minutes)."""
    raw = headers.get("Retry-After")
    if raw and raw.strip().replace(".", "", 1).isdigit():
        return float(raw)
    usage = headers.get(USAGE_HEADER)
    if not usage:
        return None
    try:
        data = json.loads(usage)
        minutes = [float(item.get("estimated_time_to_regain_access") or 0)
                   for items in data.values() for item in items if isinstance(item, dict)]
    except (ValueError, AttributeError, TypeError):
        return None
    longest = max(minutes, default=0.0)
    return longest * 60 if longest > 0 else None


def error_from_answer(status: int, raw: bytes, headers: Mapping[str, str]) -> SendError:
    """The SendError of a non-200 Graph answer (Meta envelope, or a bare proxy error page)."""
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError, UnicodeDecodeError):
        error = None
    wait = retry_after(headers)
    if not isinstance(error, dict) or not str(error.get("code", "")).isdigit():
        return send_error(None, http_status=status, retry_after=wait)
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    return send_error(int(error["code"]), str(details or error.get("message") or ""), http_status=status,
                      transient=bool(error.get("is_transient")), retry_after=wait)


async def graph_call(session: aiohttp.ClientSession, method: str, url: str, token: str, **kw: Any) -> dict[str, Any]:
    """One authenticated Graph call; the JSON object answered, or ``SendError`` for any failure."""
    headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
    try:
        async with session.request(method, url, headers=headers, **kw) as resp:
            raw = await resp.read()
            if resp.status != 200:
                raise error_from_answer(resp.status, raw, resp.headers)
    except TimeoutError as exc:
        raise timeout_error() from exc
    except aiohttp.ClientError as exc:
        raise connection_error(exc) from exc
    try:
        answer = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        answer = None
    if not isinstance(answer, dict):
        raise SendError("bad_answer", "provider_down", "WhatsApp answered 200 without JSON.", retryable=True)
    return answer
