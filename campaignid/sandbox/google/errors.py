"""Google-shaped errors: the JSON API envelope, OAuth token errors, and injected faults."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

from aiohttp import web

from ..core import Fault, SandboxContext
from .state import PREFIX, get_settings

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
UNAUTHENTICATED_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
WWW_AUTHENTICATE = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
RATE_LIMIT_MESSAGE = "Quota exceeded: the Google Wallet API allows {rps:g} requests per second per project."
# kind -> (HTTP status, message, reason, domain)
FAULT_ERRORS = {
    "http_429": (429, "Resource has been exhausted (e.g. check quota).", "rateLimitExceeded", "global"),
    "http_500": (500, "Internal error encountered.", "backendError", "global"),
    "http_503": (503, "The service is currently unavailable.", "backendError", "global"),
    "permission_denied": (403, "Permission denied.", "permissionDenied", "walletobjects"),
}
# kind -> (HTTP status, OAuth error, description) for the token endpoint
TOKEN_FAULTS = {
    "http_429": (429, "rate_limit_exceeded", "Rate Limit Exceeded"),
    "http_500": (500, "internal_failure", "Backend Error"),
    "http_503": (503, "temporarily_unavailable", "The service is currently unavailable."),
    "permission_denied": (400, "invalid_grant", "Invalid grant: account not found"),
}


class ConnectionDropped(Exception):
    """The connection was aborted on purpose; nothing more is written."""


class ApiError(Exception):
    """An error answered with the Google JSON envelope by the emulator's middleware."""

    def __init__(self, code: int, message: str, reason: str, domain: str = "global",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.reason, self.domain = code, message, reason, domain
        self.headers = headers or {}

    def envelope(self) -> dict[str, Any]:
        return {"error": {
            "code": self.code,
            "message": self.message,
            "errors": [{"message": self.message, "domain": self.domain, "reason": self.reason}],
            "status": STATUS_NAMES.get(self.code, "UNKNOWN"),
        }}

    def response(self) -> web.Response:
        return web.json_response(self.envelope(), status=self.code, headers=self.headers)


def invalid(message: str, reason: str = "invalidArgument") -> ApiError:
    domain = "walletobjects" if reason == "invalidResource" else "global"
    return ApiError(400, message, reason, domain)


def unauthenticated() -> ApiError:
    return ApiError(401, UNAUTHENTICATED_MESSAGE, "authError", headers={"WWW-Authenticate": WWW_AUTHENTICATE})


def permission_denied() -> ApiError:
    return ApiError(403, "Permission denied.", "permissionDenied", "walletobjects")


def insufficient_scope() -> ApiError:
    return ApiError(403, "Request had insufficient authentication scopes.", "insufficientPermissions")


def not_found(resource_id: str) -> ApiError:
    return ApiError(404, f"Resource not found: {resource_id}", "resourceNotFound", "walletobjects")


def already_exists(resource_id: str) -> ApiError:
    return ApiError(409, f"Resource already exists: {resource_id}", "duplicate", "walletobjects")


def rate_limited(rps: float) -> ApiError:
    return ApiError(429, RATE_LIMIT_MESSAGE.format(rps=rps), "rateLimitExceeded")


def oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


@web.middleware
async def envelope_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except ConnectionDropped:
        return web.Response(status=500)


def abort_connection(request: web.Request) -> None:
    """Drop the TCP connection with a RST, as a crashed front end would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()


async def take_fault(ctx: SandboxContext, request: web.Request, op: str) -> Fault | None:
    """Take the next queued fault for ``op``. ``timeout`` sleeps then lets the request proceed; ``reset`` drops
    the connection (the caller must stop); error kinds are returned for the caller to render."""
    fault = ctx.faults.take(PREFIX, op)
    if fault is None:
        return None
    if fault.kind == "timeout":
        seconds = float(fault.params.get("seconds", get_settings(ctx)["default_timeout_fault_s"]))
        await asyncio.sleep(seconds)
        return None
    if fault.kind == "reset":
        abort_connection(request)
    return fault


def fault_error(fault: Fault) -> ApiError:
    status, message, reason, domain = FAULT_ERRORS.get(fault.kind, FAULT_ERRORS["http_500"])
    headers = {"Retry-After": str(fault.params["retry_after"])} if "retry_after" in fault.params else None
    return ApiError(status, str(fault.params.get("message", message)), reason, domain, headers)


async def raise_api_fault(ctx: SandboxContext, request: web.Request, op: str) -> None:
    """For JSON API handlers: raise the injected fault as a Google envelope (or drop the connection)."""
    fault = await take_fault(ctx, request, op)
    if fault is None:
        return
    if fault.kind == "reset":
        raise ConnectionDropped()
    raise fault_error(fault)
