"""Pure builders of Graph request bodies and readers of its answers (no I/O).

- ``use_template=True`` (default, business-initiated): a template message, image header = the card's
  media ID, body parameters from ``OutgoingMessage.variables`` (named or positional per config).
- ``use_template=False`` (inside a 24 h service window): an image with the text as caption, or a text
  message when there is no card. A caption is limited to 1024 characters: longer text is cut at a word
  boundary with an ellipsis (``details["text_truncated"]``) rather than sent as a second message,
  because bursts of several messages to one recipient trip the pair rate limit (131056) and a second
  message could fail after the first succeeded.
Every message carries ``biz_opaque_callback_data`` = our delivery ID, echoed in its status webhooks.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import aiohttp

from campaignid.channels.base import CardView, OutgoingMessage, SendError

from .codes import MAX_CAPTION, MAX_TEXT, MESSAGING_PRODUCT
from .conf import WhatsAppConfig

ELLIPSIS = "…"
PNG = "image/png"
PDF = "application/pdf"
HOUSEHOLD_TEMPLATE = "campaignid_household"  # DOCUMENT header (the household PDF) + household link
HOUSEHOLD_PARAMETERS = ("programme_name", "card_count", "household_url")
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def fit(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters (at a word boundary when one is close), and whether it was cut."""
    if len(text) <= limit:
        return text, False
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space >= limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS, True


def _envelope(message: OutgoingMessage, kind: str) -> dict[str, Any]:
    return {"messaging_product": MESSAGING_PRODUCT, "recipient_type": "individual",
            "to": message.recipient.lstrip("+"), "type": kind,
            "biz_opaque_callback_data": str(message.delivery_id)}


def body_parameters(config: WhatsAppConfig, variables: dict[str, str]) -> list[dict[str, str]]:
    missing = [name for name in config.template_parameters if not str(variables.get(name) or "").strip()]
    if missing:
        raise SendError("missing_variable", "template",
                        f"The template needs {', '.join(missing)}, which this message does not have.")
    params = []
    for name in config.template_parameters:
        param = {"type": "text", "text": str(variables[name])}
        if config.template_named_parameters:
            param["parameter_name"] = name
        params.append(param)
    return params


def filled_body(config: WhatsAppConfig, body: str, variables: dict[str, str]) -> str:
    """A template body (``{{name}}`` or ``{{1}}`` placeholders) as the phone shows it with these variables."""
    names = {str(i): name for i, name in enumerate(config.template_parameters, start=1)}

    def value(match: re.Match) -> str:
        key = match.group(1)
        name = key if config.template_named_parameters else names.get(key, key)
        return str(variables.get(name) or match.group(0))

    return PLACEHOLDER.sub(value, body)


def template_message(config: WhatsAppConfig, message: OutgoingMessage, media_id: str | None) -> dict[str, Any]:
    components: list[dict[str, Any]] = []
    if media_id:
        components.append({"type": "header", "parameters": [{"type": "image", "image": {"id": media_id}}]})
    if config.template_parameters:
        components.append({"type": "body", "parameters": body_parameters(config, message.variables)})
    payload = _envelope(message, "template")
    payload["template"] = {"name": config.template_name,
                           "language": {"code": config.language_code(message.language)},
                           "components": components}
    return payload


def document_template_message(config: WhatsAppConfig, message: OutgoingMessage, media_id: str, filename: str, *,
                              template_name: str = HOUSEHOLD_TEMPLATE,
                              parameters: tuple[str, ...] = HOUSEHOLD_PARAMETERS) -> dict[str, Any]:
    """An approved template whose header is a DOCUMENT (the household PDF, uploaded first) + named body params."""
    if not media_id:
        raise SendError("no_document", "invalid_request", "A document header needs an uploaded document.")
    body_config = replace(config, template_parameters=parameters, template_named_parameters=True)
    components: list[dict[str, Any]] = [
        {"type": "header", "parameters": [{"type": "document", "document": {"id": media_id, "filename": filename}}]},
        {"type": "body", "parameters": body_parameters(body_config, message.variables)},
    ]
    payload = _envelope(message, "template")
    payload["template"] = {"name": template_name, "language": {"code": config.language_code(message.language)},
                           "components": components}
    return payload


def free_form_message(message: OutgoingMessage, media_id: str | None) -> tuple[dict[str, Any], bool]:
    """(payload, whether the text was truncated)."""
    if media_id:
        caption, cut = fit(message.text, MAX_CAPTION)
        payload = _envelope(message, "image")
        payload["image"] = {"id": media_id, **({"caption": caption} if caption else {})}
        return payload, cut
    if not message.text.strip():
        raise SendError("empty_message", "invalid_request", "Nothing to send: no card and no text.")
    body, cut = fit(message.text, MAX_TEXT)
    payload = _envelope(message, "text")
    payload["text"] = {"body": body, "preview_url": False}
    return payload, cut


def message_payload(config: WhatsAppConfig, message: OutgoingMessage,
                    media_id: str | None) -> tuple[dict[str, Any], bool]:
    if message.use_template:
        return template_message(config, message, media_id), False
    return free_form_message(message, media_id)


def read_receipt(message_id: str) -> dict[str, Any]:
    """Marks an inbound message read (blue ticks): no ``to``, no ``type``."""
    return {"messaging_product": MESSAGING_PRODUCT, "status": "read", "message_id": message_id}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def media_form(card: CardView) -> aiohttp.FormData:
    """The multipart upload of a card PNG (aiohttp builds the boundary and the part headers)."""
    form = aiohttp.FormData()
    form.add_field("messaging_product", MESSAGING_PRODUCT)
    form.add_field("type", PNG)
    form.add_field("file", card.png_bytes(), filename="card.png", content_type=PNG)
    return form


def document_form(data: bytes, filename: str, mime: str = PDF) -> aiohttp.FormData:
    """The multipart upload of a document (Meta keeps documents up to 100 MB)."""
    form = aiohttp.FormData()
    form.add_field("messaging_product", MESSAGING_PRODUCT)
    form.add_field("type", mime)
    form.add_field("file", data, filename=filename, content_type=mime)
    return form


def media_id_from(answer: Any) -> str:
    return str(answer.get("id") or "") if isinstance(answer, dict) else ""


def wamid_from(answer: Any) -> tuple[str, str]:
    """(``messages[0].id``, ``messages[0].message_status``) of a send answer; empty when absent."""
    messages = answer.get("messages") if isinstance(answer, dict) else None
    first = messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
    return str(first.get("id") or ""), str(first.get("message_status") or "")
