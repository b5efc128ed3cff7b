"""``POST /batch``: Google's multipart/mixed batch, as googleapiclient's ``new_batch_http_request`` sends it.

Each part is an ``application/http`` request; it is replayed against this emulator (with the outer
request's headers unless the part overrides them) so auth, quota and validation apply per part.
"""

from __future__ import annotations

import email.parser
import email.policy
import secrets
from typing import Any

from aiohttp import web

from ..core import SandboxContext
from .errors import invalid
from .state import public_base

MAX_PARTS = 1000
INHERITED_HEADERS = ("Authorization",)
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


def parse_parts(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """Split a multipart/mixed body into (Content-ID, embedded HTTP request bytes)."""
    raw = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
    if not message.is_multipart():
        raise invalid("A batch request must be multipart/mixed.")
    parts = []
    for part in message.get_payload():
        payload = part.get_payload(decode=False)
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else bytes(payload)
        parts.append((str(part.get("Content-ID", "")), data))
    if len(parts) > MAX_PARTS:
        raise invalid(f"A batch request may contain at most {MAX_PARTS} calls.")
    return parts


def parse_http(data: bytes) -> tuple[str, str, dict[str, str], bytes]:
    """Parse ``METHOD /path HTTP/1.1`` + headers + body."""
    head, _, body = data.replace(b"\r\n", b"\n").partition(b"\n\n")
    lines = head.decode("utf-8", "replace").strip("\n").split("\n")
    method, path = (lines[0].split(" ") + ["", ""])[:2]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return method.upper(), path, headers, body


def local_path(path: str) -> str:
    return path if path.startswith("/google/") else "/google" + (path if path.startswith("/") else "/" + path)


async def replay(ctx: SandboxContext, base: str, outer: web.Request, data: bytes) -> tuple[int, bytes]:
    method, path, headers, body = parse_http(data)
    for name in INHERITED_HEADERS:
        if name in outer.headers and name.lower() not in {h.lower() for h in headers}:
            headers[name] = outer.headers[name]
    headers = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "host", "mime-version")}
    assert ctx.http is not None
    async with ctx.http.request(method, base + local_path(path), headers=headers, data=body or None) as resp:
        return resp.status, await resp.read()


def render_part(boundary: str, content_id: str, status: int, body: bytes) -> bytes:
    response_id = content_id.replace("<", "<response-", 1) if content_id else ""
    head = (f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: {response_id}\r\n\r\n"
            f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\nContent-Type: application/json; charset=UTF-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body + b"\r\n"


def batch_handler(ctx: SandboxContext):
    async def batch(request: web.Request) -> web.Response:
        content_type = request.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/mixed"):
            raise invalid("A batch request must be multipart/mixed.")
        parts = parse_parts(content_type, await request.read())
        base = public_base(ctx, request)
        boundary = "batch_" + secrets.token_hex(12)
        chunks: list[Any] = []
        for content_id, data in parts:
            status, body = await replay(ctx, base, request, data)
            chunks.append(render_part(boundary, content_id, status, body))
        chunks.append(f"--{boundary}--\r\n".encode())
        return web.Response(body=b"".join(chunks), headers={"Content-Type": f"multipart/mixed; boundary={boundary}"})

    return batch
