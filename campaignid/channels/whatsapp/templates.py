"""The account's message templates: ``GET /{waba-id}/message_templates`` with ``fields``, ``limit``,
cursor paging (``paging.next``) and ``summary=total_count``, mapped to provider-neutral ``TemplateInfo``.

Meta's words are mapped here: status (``APPROVED``, ``PAUSED``…), quality (``quality_score.score``
GREEN/YELLOW/RED → high/medium/low), category (lowercase), components (header format, body text,
placeholders, and the ``example`` values Meta requires at creation).
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from campaignid.channels.base import SendError
from campaignid.channels.events import TemplateInfo

from .channel_http import graph_call
from .conf import WhatsAppConfig
from .notifications import QUALITY, TEMPLATE_STATUS

FIELDS = "name,language,status,category,quality_score,rejected_reason,parameter_format,components"
PAGE_SIZE = 100
MAX_PAGES = 100  # 10,000 templates: far above Meta's per-account limit
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def _examples(body: dict[str, Any]) -> tuple[str, ...]:
    example = body.get("example") if isinstance(body.get("example"), dict) else {}
    named = example.get("body_text_named_params")
    if isinstance(named, list):
        return tuple(str(item.get("example", "")) for item in named if isinstance(item, dict))
    positional = example.get("body_text")
    if isinstance(positional, list) and positional and isinstance(positional[0], list):
        return tuple(str(v) for v in positional[0])
    return ()


def template_info(item: dict[str, Any]) -> TemplateInfo:
    components = {str(c.get("type", "")).upper(): c for c in item.get("components") or [] if isinstance(c, dict)}
    body = components.get("BODY", {})
    text = str(body.get("text", ""))
    quality = item.get("quality_score") if isinstance(item.get("quality_score"), dict) else {}
    return TemplateInfo(
        name=str(item.get("name", "")), language=str(item.get("language", "")),
        status=TEMPLATE_STATUS.get(str(item.get("status", "")).upper(), "other"),
        category=str(item.get("category", "")).lower(), quality=QUALITY.get(str(quality.get("score", "")).upper(),
                                                                              "unknown"),
        provider_id=str(item.get("id", "")), reason=str(item.get("rejected_reason") or "")[:200],
        header=str(components.get("HEADER", {}).get("format", "")).lower(), body=text,
        parameters=tuple(dict.fromkeys(PLACEHOLDER.findall(text))), examples=_examples(body))


async def fetch_templates(session: aiohttp.ClientSession, config: WhatsAppConfig) -> list[TemplateInfo]:
    if not config.waba_id:
        raise SendError("not_configured", "configuration", "The WhatsApp business account ID (waba_id) is not set.")
    url: str | None = f"{config.graph_url}/{config.graph_version}/{config.waba_id}/message_templates"
    params: dict[str, str] | None = {"fields": FIELDS, "limit": str(PAGE_SIZE), "summary": "total_count"}
    found: list[TemplateInfo] = []
    for _ in range(MAX_PAGES):
        if url is None:
            break
        page = await graph_call(session, "GET", url, config.access_token, params=params)
        found += [template_info(item) for item in page.get("data") or [] if isinstance(item, dict)]
        paging = page.get("paging") if isinstance(page.get("paging"), dict) else {}
        url, params = paging.get("next"), None  # the next URL carries every parameter and the cursor
        if url is not None and not str(url).startswith(config.graph_url + "/"):
            break  # never send the token anywhere but the configured Graph API
    return [t for t in found if t.name and t.language]
