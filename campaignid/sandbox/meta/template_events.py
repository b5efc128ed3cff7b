"""Template lifecycle changes and the WhatsApp Business Account webhooks that report them.

Shapes from Meta's webhook references (``entry[].changes[].field`` names the webhook):
- ``message_template_status_update``: ``{"event": "APPROVED|REJECTED|PAUSED|DISABLED|…",
  "message_template_id", "message_template_name", "message_template_language", "reason",
  "message_template_category"}``, plus ``disable_info.disable_date`` when disabled and
  ``other_info.{title, description}`` when paused;
- ``message_template_quality_update``: ``{"previous_quality_score", "new_quality_score",
  "message_template_id", "message_template_name", "message_template_language"}`` (GREEN/YELLOW/RED);
- ``template_category_update``: ``{"message_template_id", "message_template_name",
  "message_template_language", "previous_category", "new_category"}`` (Meta re-categorising a template,
  e.g. UTILITY → MARKETING).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .templates import CATEGORIES, QUALITIES, STATUSES, Template

PAUSE_INFO = {"title": "FIRST_PAUSE", "description": "Your WhatsApp message template has been paused for 3 hours "
                                                     "because of low quality."}


def _ids(template: Template) -> dict[str, Any]:
    return {"message_template_id": int(template.id), "message_template_name": template.name,
            "message_template_language": template.language}


def status_value(template: Template, reason: str, at: float) -> dict[str, Any]:
    value = {"event": template.status, **_ids(template), "reason": reason or "NONE",
             "message_template_category": template.category}
    if template.status == "DISABLED":
        value["disable_info"] = {"disable_date": str(int(at))}
    if template.status == "PAUSED":
        value["other_info"] = dict(PAUSE_INFO)
    return value


def quality_value(template: Template, previous: str) -> dict[str, Any]:
    return {"previous_quality_score": previous, "new_quality_score": template.quality, **_ids(template)}


def category_value(template: Template, previous: str) -> dict[str, Any]:
    return {**_ids(template), "previous_category": previous, "new_category": template.category}


def apply_change(template: Template, patch: dict[str, Any], at: float) -> tuple[Template, list[tuple[str, dict]]]:
    """The changed template and the (field, value) webhooks its change produces; ValueError if malformed."""
    status = str(patch.get("status", template.status)).upper()
    quality = str(patch.get("quality", template.quality)).upper()
    category = str(patch.get("category", template.category)).upper()
    if status not in STATUSES or quality not in QUALITIES or category not in CATEGORIES:
        raise ValueError(f"status in {STATUSES}, quality in {QUALITIES}, category in {CATEGORIES}")
    changed = dataclasses.replace(template, status=status, quality=quality, category=category,
                                  rejected_reason=str(patch.get("reason", "NONE")) if status == "REJECTED"
                                  else "NONE")
    events: list[tuple[str, dict]] = []
    if category != template.category:
        events.append(("template_category_update", category_value(changed, template.category)))
    if quality != template.quality:
        events.append(("message_template_quality_update", quality_value(changed, template.quality)))
    if status != template.status:
        events.append(("message_template_status_update", status_value(changed, str(patch.get("reason", "")), at)))
    return changed, events
