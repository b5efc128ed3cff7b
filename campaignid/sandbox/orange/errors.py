"""Orange error envelopes and injected faults.

Two families, as on the real gateway:
- gateway (auth / quota / availability) errors: ``{"code": <int>, "message": ..., "description": ...}``;
- OneAPI service and policy errors:
  ``{"requestError": {"serviceException"|"policyException": {"messageId", "text", "variables"}}}``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from ..core import Fault, SandboxContext
from . import state

# code -> (HTTP status, message)
GATEWAY = {
    1: (500, "Internal error"),
    5: (503, "Service unavailable"),
    40: (401, "Missing credentials"),
    41: (401, "Invalid credentials"),
    42: (401, "Expired credentials"),
    53: (429, "Too many requests"),
}
SERVICE_TEXT = {
    "SVC0001": "A service error occurred. Error code is %1",
    "SVC0002": "Invalid input value for message part %1",
    "SVC0004": "No valid addresses provided in message part %1",
    "SVC0005": "Correlator %1 specified in message part %2 is a duplicate",
    "SVC0280": "Message too long. Maximum length is %1 characters",
}
POLICY_TEXT = {
    "POL0001": "A policy error occurred. Error code is %1",
    "POL0003": "Too many addresses specified in message part %1",
}
FAULT_GATEWAY = {"http_429": 53, "http_503": 5, "http_500": 1}
DEFAULT_TIMEOUT_SECONDS = 30.0


def gateway_error(code: int, description: str, status: int | None = None,
                  headers: dict[str, str] | None = None) -> web.Response:
    http_status, message = GATEWAY[code]
    payload = {"code": code, "message": message, "description": description}
    return web.json_response(payload, status=status or http_status, headers=headers)


def _variables(ctx: SandboxContext, variables: list[str], force_string: bool) -> list[str] | str:
    st, shape = state.get(ctx), state.settings(ctx)["variables_shape"]
    st.errors_emitted += 1
    as_string = force_string or shape == "string" or (shape == "alternate" and st.errors_emitted % 2 == 0)
    return ", ".join(variables) if as_string else list(variables)


def service_error(ctx: SandboxContext, message_id: str, variables: list[str], status: int = 400,
                  force_string: bool = False) -> web.Response:
    body = {"messageId": message_id, "text": SERVICE_TEXT[message_id],
            "variables": _variables(ctx, variables, force_string)}
    return web.json_response({"requestError": {"serviceException": body}}, status=status)


def policy_error(ctx: SandboxContext, message_id: str, variables: list[str],
                 force_string: bool = False) -> web.Response:
    body = {"messageId": message_id, "text": POLICY_TEXT[message_id],
            "variables": _variables(ctx, variables, force_string)}
    return web.json_response({"requestError": {"policyException": body}}, status=403)


@dataclass
class FaultEffect:
    """What an injected fault does to one request."""

    response: web.StreamResponse | None = None
    expire_token: bool = False
    variables_string: bool = False


async def _reset_connection(request: web.Request) -> web.StreamResponse:
    """Drop the TCP connection without an answer: the client sees a reset / disconnect."""
    if request.transport is not None:
        request.transport.abort()
    raise web.HTTPServiceUnavailable()  # never delivered: the socket is gone


async def apply_fault(ctx: SandboxContext, request: web.Request, fault: Fault | None) -> FaultEffect:
    if fault is None:
        return FaultEffect()
    kind, params = fault.kind, fault.params or {}
    if kind in FAULT_GATEWAY:
        return FaultEffect(gateway_error(FAULT_GATEWAY[kind], f"Injected fault {kind}"))
    if kind == "reset":
        return FaultEffect(await _reset_connection(request))
    if kind == "timeout":
        await asyncio.sleep(float(params.get("seconds", DEFAULT_TIMEOUT_SECONDS)))
        if params.get("process", True):
            return FaultEffect()
        return FaultEffect(gateway_error(1, "Gateway timeout", status=504))
    if kind == "pol0001":
        return FaultEffect(policy_error(ctx, "POL0001", [params.get("reason", "Injected policy error")]))
    if kind == "svc0001":
        return FaultEffect(service_error(ctx, "SVC0001", [params.get("reason", "Injected service error")]))
    if kind == "expire_token":
        return FaultEffect(expire_token=True)
    if kind == "variables_string":
        return FaultEffect(variables_string=True)
    return FaultEffect()
