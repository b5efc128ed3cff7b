"""HTTP handlers of the Graph API surface: ``/graph/v{N}/{phone-number-id}/messages``, ``/media``, media nodes,
WABA listings, and the sandbox-only media URLs shown in the inbox."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from aiohttp import web

from .errors import GraphError, error_response, graph_json, invalid, unknown_object
from .faults import apply_fault
from .media import check_upload, parse_multipart
from .messages import MediaResolver, Outgoing, parse_message
from .nodes import phone_number_fields
from .pricing import pricing
from .read_receipts import mark_read
from .state import GRAPH, GraphState, SentMessage, new_wamid
from .template_api import list_templates

VERSION = r"{version:v\d+(?:\.\d+)?}"
URL_KEY = secrets.token_bytes(16)
TOKEN_TEXT = {
    "missing": ("An active access token must be used to query information about the current user.", None),
    "unknown": ("Invalid OAuth access token - Cannot parse access token", None),
    "expired": ("Error validating access token: Session has expired.", 463),
}


@web.middleware
async def graph_errors(request: web.Request, handler):
    try:
        return await handler(request)
    except GraphError as err:
        return error_response(err)


def _state(request: web.Request) -> GraphState:
    return request.app[GRAPH]


def authorise(request: web.Request, state: GraphState) -> None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else request.query.get("access_token", "")
    verdict = state.token_state(token) if token else "missing"
    if verdict != "ok":
        text, subcode = TOKEN_TEXT[verdict]
        raise GraphError(190, text, message=f"(#190) {text}", subcode=subcode)


def _gate(request: web.Request, kind: str = "post") -> tuple[GraphState, str, dict[str, Any]]:
    """Auth, version record, and the phone number the path names."""
    state = _state(request)
    authorise(request, state)
    state.record_version(request.match_info["version"])
    node = request.match_info["node"]
    number = state.phone_number(node)
    if number is None:
        raise unknown_object(node, kind)
    return state, node, number


async def _json_body(request: web.Request) -> Any:
    try:
        return json.loads(await request.read() or b"null")
    except (ValueError, UnicodeDecodeError):
        raise invalid("The request body could not be parsed as JSON.") from None


def _failure(state: GraphState, node: str, out: Outgoing, now: float, injected: tuple | None) -> tuple | None:
    """The asynchronous failure of an accepted message, if any; raises for the synchronous variant."""
    if injected is not None:
        return injected
    if state.is_not_on_whatsapp(out.wa_id):
        if state.settings["not_on_whatsapp_mode"] == "sync":
            raise GraphError(131026, f"Recipient {out.wa_id} is not a WhatsApp user.")
        return (131026, "Message Undeliverable.")
    if out.free_form and state.settings["enforce_window"] and not state.window_open(node, out.wa_id, now):
        return (131047, "")
    if (out.media or {}).get("id") in state.unprocessable_media:
        return (131053, "Media upload error: the media could not be processed. Upload it again.")
    return out.failure


def _admit(state: GraphState, node: str, number: dict[str, Any], out: Outgoing, now: float) -> None:
    if out.wa_id == str(number.get("display_phone_number", "")).lstrip("+"):
        raise GraphError(131021, "The recipient is the sending business phone number.")
    limits = state.settings["limits"]
    verdict = state.limiter.admit(limits, node, out.wa_id, now)
    if verdict is None:
        return
    code, wait = verdict
    if code == 130429:
        http = int(limits.get("throughput_http_status", 400))
        headers = {"Retry-After": str(max(1, round(wait)))} if http == 429 else None
        raise GraphError(code, http=http, headers=headers)
    raise GraphError(code)


async def send_message(request: web.Request) -> web.Response:
    state, node, number = _gate(request)
    injected = await apply_fault(request, state, "messages", number)
    body = await _json_body(request)
    if isinstance(body, dict) and "status" in body:
        return graph_json(mark_read(state, node, body))
    now = state.now()
    out = parse_message(body, state.templates, MediaResolver(state.media, now))
    _admit(state, node, number, out, now)
    failure = _failure(state, node, out, now, injected)
    out.extra["pricing"] = pricing(out.extra.get("category"), state.window(node, out.wa_id, now),
                                   state.settings["pricing"])
    message = SentMessage(new_wamid(out.wa_id), node, out, body, request.match_info["version"], now, failure)
    state.record(message)
    state.emitter.start(message)
    return graph_json({"messaging_product": "whatsapp",
                              "contacts": [{"input": out.to, "wa_id": out.wa_id}],
                              "messages": [{"id": message.wamid}]})


async def upload_media(request: web.Request) -> web.Response:
    state, node, number = _gate(request)
    await apply_fault(request, state, "media", number)
    parts = parse_multipart(request.headers.get("Content-Type", ""), await request.read())
    media = state.media.put(check_upload(parts), node, state.now())
    return graph_json({"id": media.id})


def _signature(media_id: str, expires: str) -> str:
    return hmac.new(URL_KEY, f"{media_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


async def get_node(request: web.Request) -> web.Response:
    state = _state(request)
    authorise(request, state)
    state.record_version(request.match_info["version"])
    node = request.match_info["node"]
    if (number := state.phone_number(node)) is not None:
        return graph_json(phone_number_fields(state, node, number, request.query.get("fields")))
    media = state.media.find(node)
    if media is None or media.expired(state.now()):
        raise unknown_object(node, "get")
    expires = str(int(state.now() + float(state.settings["media_url_ttl_s"])))
    url = (f"{state.ctx.base_url}/graph/_sandbox/download/{media.id}"
           f"?ext={expires}&hash={_signature(media.id, expires)}")
    return graph_json({"messaging_product": "whatsapp", "url": url, "mime_type": media.mime_type,
                              "sha256": media.sha256, "file_size": media.size, "id": media.id})


async def delete_node(request: web.Request) -> web.Response:
    state = _state(request)
    authorise(request, state)
    state.record_version(request.match_info["version"])
    if not state.media.delete(request.match_info["node"]):
        raise unknown_object(request.match_info["node"], "delete")
    return graph_json({"success": True})


async def waba_edge(request: web.Request) -> web.Response:
    state = _state(request)
    authorise(request, state)
    state.record_version(request.match_info["version"])
    node, edge = request.match_info["node"], request.match_info["edge"]
    numbers = state.waba_numbers(node)
    if not numbers:
        raise unknown_object(node, "get")
    if edge == "message_templates":
        return graph_json(list_templates(state, request.url, request.query))
    data = [{"id": pid, **state.phone_number(pid)} for pid in numbers]
    return graph_json({"data": data, "paging": {"cursors": {"before": "", "after": ""}}})


async def download(request: web.Request) -> web.Response:
    state = _state(request)
    authorise(request, state)
    media = state.media.find(request.match_info["media_id"])
    expires = request.query.get("ext", "0")
    valid = hmac.compare_digest(request.query.get("hash", ""), _signature(request.match_info["media_id"], expires))
    if media is None or not valid or not expires.isdigit() or state.now() > int(expires):
        raise web.HTTPNotFound()
    return web.Response(body=state.media.read(media), content_type=media.mime_type)


async def public_media(request: web.Request) -> web.Response:
    """Sandbox-only: the bytes of a media id, unauthenticated, for the inbox page."""
    state = _state(request)
    media = state.media.find(request.match_info["media_id"])
    if media is None:
        raise web.HTTPNotFound()
    try:
        return web.Response(body=state.media.read(media), content_type=media.mime_type)
    except FileNotFoundError:
        raise web.HTTPNotFound() from None


def add_routes(app: web.Application) -> None:
    app.router.add_post(f"/{VERSION}/{{node}}/messages", send_message)
    app.router.add_post(f"/{VERSION}/{{node}}/media", upload_media)
    app.router.add_get(f"/{VERSION}/{{node}}/{{edge:message_templates|phone_numbers}}", waba_edge)
    app.router.add_get(f"/{VERSION}/{{node}}", get_node)
    app.router.add_delete(f"/{VERSION}/{{node}}", delete_node)
    app.router.add_get("/_sandbox/media/{media_id}", public_media)
    app.router.add_get("/_sandbox/download/{media_id}", download)
