"""Fault injection for ``/graph`` (queued with ``POST /control/faults {"provider": "graph", "op": ...}``).

``op`` is ``messages`` or ``media``. Kinds:
- ``http_500`` / ``http_503``: a plain-text 5xx as a proxy would send it (``params.body``,
  ``params.retry_after`` for 503);
- ``timeout``: wait ``params.seconds`` (default 30) before answering; then, with ``params.then`` =
  ``"process"`` (default) the request is processed normally (the message is sent, late), with
  ``"error"`` it ends with a plain 504 and nothing is sent;
- ``reset``: the connection is closed without a response;
- a Graph error code (``"131048"``, ``"368"``, ``"131031"``, ``"190"``, ``"4"``, ``"80007"``, ``"131000"``,
  ``"131026"``…): the Meta envelope with the HTTP status of the code table (``params.details``
  overrides ``error_data.details``). ``131053`` and ``131049``, or any code with ``params.async`` true,
  are reported asynchronously on ``messages``: HTTP 200 with a wamid, then a ``failed`` status webhook.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .errors import ASYNC_ONLY, CODES, USAGE_HEADER_CODES, GraphError, usage_header
from .state import GraphState

DEFAULT_TIMEOUT_S = 30.0


def _reset(request: web.Request) -> None:
    """Abort the connection; the HTTP exception raised after it is never written."""
    if request.transport is not None:
        request.transport.abort()
    raise web.HTTPInternalServerError(text="connection reset")


async def _timeout(state: GraphState, params: dict[str, Any]) -> None:
    generation = state.generation
    await asyncio.sleep(float(params.get("seconds", DEFAULT_TIMEOUT_S)))
    if params.get("then", "process") != "process" or generation != state.generation:
        raise web.HTTPGatewayTimeout(text="Gateway Time-out")


def _code_fault(code: int, op: str, params: dict[str, Any], number: dict[str, Any]) -> tuple[int, str]:
    if op == "messages" and (code in ASYNC_ONLY or params.get("async")):
        return code, str(params.get("details", ""))
    headers = usage_header(str(number.get("waba_id", ""))) if code in USAGE_HEADER_CODES else None
    raise GraphError(code, str(params.get("details", "")), http=params.get("http"), headers=headers)


async def apply_fault(request: web.Request, state: GraphState, op: str,
                      number: dict[str, Any]) -> tuple[int, str] | None:
    """Take the next fault for ``op``; raise/abort for synchronous ones, return (code, details) for async ones."""
    fault = state.ctx.faults.take("graph", op)
    if fault is None:
        return None
    kind, params = str(fault.kind), fault.params or {}
    if kind == "http_500":
        raise web.HTTPInternalServerError(text=params.get("body", "Internal Server Error"))
    if kind == "http_503":
        raise web.HTTPServiceUnavailable(text=params.get("body", "Service Unavailable"),
                                         headers={"Retry-After": str(params.get("retry_after", 1))})
    if kind == "timeout":
        await _timeout(state, params)
        return None
    if kind == "reset":
        _reset(request)
    if kind.isdigit() and int(kind) in CODES:
        return _code_fault(int(kind), op, params, number)
    raise GraphError(1, f"Unknown sandbox fault kind {kind!r} for graph/{op}.")
