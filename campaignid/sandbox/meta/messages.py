"""Validation of a ``POST /{phone-number-id}/messages`` body into an :class:`Outgoing` message (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import GraphError, invalid, missing
from .media import MediaStore
from .template_send import check_template
from .templates import TemplateRegistry

MAX_TEXT_BODY = 4096
MAX_CAPTION = 1024
SUPPORTED_TYPES = ("text", "image", "template")
KNOWN_TYPES = ("audio", "contacts", "document", "interactive", "location", "reaction", "sticker", "video")
TO_SEPARATORS = re.compile(r"[\s+\-().]")
LINK = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)


@dataclass
class Outgoing:
    to: str
    wa_id: str
    type: str
    text: str = ""
    media: dict[str, Any] | None = None  # {"id", "mime_type"} or {"link"}
    template: str = ""
    language: str = ""
    biz_opaque_callback_data: str | None = None
    failure: tuple[int, str] | None = None  # a failure Meta only reports in the status webhook
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def free_form(self) -> bool:
        return self.type != "template"


def normalise_to(value: Any) -> str:
    if not isinstance(value, str | int) or not str(value).strip():
        raise missing("to")
    digits = TO_SEPARATORS.sub("", str(value))
    if not digits.isdigit() or not 7 <= len(digits) <= 15:
        raise GraphError(131009, f"Parameter 'to' ({value}) is not a valid phone number.")
    return digits


class MediaResolver:
    """Resolves ``{"id"}`` / ``{"link"}`` media objects of a message, at the sandbox time ``now``."""

    def __init__(self, store: MediaStore, now: float) -> None:
        self.store, self.now = store, now

    def __call__(self, obj: dict[str, Any], where: str) -> dict[str, Any]:
        media_id, link = obj.get("id"), obj.get("link")
        if bool(media_id) == bool(link):
            raise GraphError(131009, f"{where}: provide exactly one of 'id' or 'link'.")
        if link:
            if not isinstance(link, str) or not LINK.match(link):
                raise GraphError(131009, f"{where}: 'link' must be an http(s) URL.")
            return {"link": link}
        media = self.store.find(str(media_id))
        if media is None:
            raise GraphError(131009, f"{where}: media id {media_id} is not valid.")
        if media.expired(self.now):
            raise GraphError(131009, f"{where}: media id {media_id} has expired.")
        return {"id": media.id, "mime_type": media.mime_type}


def _text(body: dict[str, Any], out: Outgoing) -> None:
    text = body.get("text")
    if not isinstance(text, dict):
        raise GraphError(131008, "The parameter text is required.")
    content = text.get("body")
    if not isinstance(content, str) or not content:
        raise GraphError(131008, "The parameter text['body'] is required.")
    if len(content) > MAX_TEXT_BODY:
        raise invalid(f"Param text['body'] must be at most {MAX_TEXT_BODY} characters long.")
    out.text = content


def _image(body: dict[str, Any], out: Outgoing, resolve: MediaResolver) -> None:
    image = body.get("image")
    if not isinstance(image, dict):
        raise GraphError(131008, "The parameter image is required.")
    caption = image.get("caption") or ""
    if not isinstance(caption, str) or len(caption) > MAX_CAPTION:
        raise invalid(f"Param image['caption'] must be at most {MAX_CAPTION} characters long.")
    out.media = resolve(image, "image")
    out.text = caption
    if out.media.get("mime_type") not in (None, "image/jpeg", "image/png"):
        out.failure = (131053, f"Media type {out.media['mime_type']} cannot be sent as an image message.")


def _template(body: dict[str, Any], out: Outgoing, registry: TemplateRegistry, resolve: MediaResolver) -> None:
    rendered = check_template(body.get("template"), registry, resolve)
    out.text, out.media = rendered.text, rendered.header
    out.template, out.language = rendered.template.name, rendered.template.language
    out.extra["category"] = rendered.template.category.lower()


def _envelope(body: Any) -> tuple[str, str]:
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    product = body.get("messaging_product")
    if not product:
        raise missing("messaging_product")
    if product != "whatsapp":
        raise invalid(f'Param messaging_product must be one of {{WHATSAPP}} - got "{product}".')
    if body.get("recipient_type", "individual") != "individual":
        raise invalid("Param recipient_type must be one of {INDIVIDUAL}.")
    to = normalise_to(body.get("to"))
    kind = body.get("type", "text")
    if kind in KNOWN_TYPES:
        raise GraphError(131051, f"Message type {kind} is not supported by this number.")
    if kind not in SUPPORTED_TYPES:
        raise invalid(f"Param type must be one of {{{', '.join(t.upper() for t in SUPPORTED_TYPES + KNOWN_TYPES)}}}"
                      f' - got "{kind}".')
    return to, kind


def parse_message(body: Any, registry: TemplateRegistry, resolve: MediaResolver) -> Outgoing:
    to, kind = _envelope(body)
    opaque = body.get("biz_opaque_callback_data")
    if opaque is not None and (not isinstance(opaque, str) or len(opaque) > 512):
        raise invalid("Param biz_opaque_callback_data must be a string of at most 512 characters.")
    out = Outgoing(to=str(body["to"]), wa_id=to, type=kind, biz_opaque_callback_data=opaque)
    if kind == "text":
        _text(body, out)
    elif kind == "image":
        _image(body, out, resolve)
    else:
        _template(body, out, registry, resolve)
    return out
