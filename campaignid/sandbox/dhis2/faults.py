"""Injected failures, queued with POST /control/faults {"provider": "dhis2", "op": ..., "kind": ...}.

ops: "trackedEntities" (new and legacy tracked entity endpoints), "programs", "metadata" (other
metadata lists), "system" (system/*, me) or "*".
kinds: http_500 (DHIS2 JSON error), http_502 / http_503 / http_504 / http_429 (HTML from the reverse
proxy; params.retry_after adds Retry-After), timeout (params.seconds, default 30, then the normal
answer), reset (connection dropped without a response). params.page = K fires only on page K.
"""

from __future__ import annotations

import asyncio
import socket
import struct

from aiohttp import web

from ..core import Fault, SandboxContext
from .versions import error

PROVIDER = "dhis2"
PROXY_STATUS = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out",
                429: "Too Many Requests"}


def take(ctx: SandboxContext, op: str, page: int) -> Fault | None:
    """The next fault for ``op``; a fault bound to another page is left queued."""
    fault = ctx.faults.take(PROVIDER, op)
    if fault is None or "page" not in fault.params or int(fault.params["page"]) == page:
        return fault
    removed = fault.remaining <= 0
    fault.remaining += 1
    if removed:
        ctx.faults.add(PROVIDER, fault)
    return None


def _proxy_page(status: int, retry_after: object) -> web.Response:
    reason = PROXY_STATUS[status]
    html = (f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
    headers = {"Server": "nginx"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return web.Response(status=status, text=html, content_type="text/html", headers=headers)


def _reset(request: web.Request) -> web.Response:
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return web.Response(status=500)


async def apply(request: web.Request, ctx: SandboxContext, op: str, page: int) -> web.Response | None:
    """The failure response for this request, or None to answer normally."""
    fault = take(ctx, op, page)
    if fault is None:
        return None
    kind = fault.kind
    if kind == "timeout":
        await asyncio.sleep(float(fault.params.get("seconds", 30)))
        return None
    if kind == "reset":
        return _reset(request)
    if kind.startswith("http_") and kind[5:].isdigit():
        status = int(kind[5:])
        if status in PROXY_STATUS:
            return _proxy_page(status, fault.params.get("retry_after"))
        return error(status, str(fault.params.get("message", "An unexpected error occurred")))
    return None
