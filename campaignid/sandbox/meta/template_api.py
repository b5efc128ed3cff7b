"""``GET /{waba-id}/message_templates`` with Graph's ``fields``, ``limit``, cursor paging and ``summary``.

- ``fields``: a comma list; only those fields (and ``id``) are answered. Without it: name,
  parameter_format, components, language, status, category, id.
- ``limit`` (default 25, at most 1000), ``after`` / ``before``: opaque cursors from ``paging.cursors``;
  ``paging.next`` / ``paging.previous`` are full URLs, present only when there is such a page.
- filters ``name`` (substring), ``status``, ``category``, ``language``.
- ``summary``: ``total_count``, ``message_template_count``, ``message_template_limit``,
  ``are_translations_complete`` (or ``summary=true`` for ``total_count``), answered as a ``summary`` object.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from yarl import URL

from .errors import invalid
from .state import GraphState

DEFAULT_FIELDS = ("name", "parameter_format", "components", "language", "status", "category", "id")
KNOWN_FIELDS = (*DEFAULT_FIELDS, "quality_score", "rejected_reason")
SUMMARY_FIELDS = ("total_count", "message_template_count", "message_template_limit", "are_translations_complete")
DEFAULT_LIMIT, MAX_LIMIT = 25, 1000


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"tpl:{index}".encode()).decode().rstrip("=")


def _index(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(raw.removeprefix("tpl:"))
    except (ValueError, UnicodeDecodeError):
        raise invalid(f"Invalid cursor: {cursor}") from None


def _window(query: Mapping[str, str], total: int) -> tuple[int, int]:
    raw = query.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 0 < int(raw) <= MAX_LIMIT:
        raise invalid(f"Param limit must be a number between 1 and {MAX_LIMIT}.")
    limit = int(raw)
    if query.get("after"):
        start = _index(query["after"]) + 1
    elif query.get("before"):
        start = max(0, _index(query["before"]) - limit)
    else:
        start = 0
    return start, min(total, start + limit)


def _selected(state: GraphState, query: Mapping[str, str]) -> list[dict[str, Any]]:
    items = [t.as_graph() for t in state.templates.all()]
    name = query.get("name")
    exact = {key: query[key].upper() if key != "language" else query[key]
             for key in ("status", "category", "language") if query.get(key)}
    return [t for t in items if (not name or name in t["name"]) and all(t[k] == v for k, v in exact.items())]


def _summary(state: GraphState, query: Mapping[str, str], total: int) -> dict[str, Any] | None:
    raw = query.get("summary")
    if not raw:
        return None
    wanted = ["total_count"] if raw == "true" else [f.strip() for f in raw.split(",") if f.strip()]
    values = {"total_count": total, "message_template_count": len(state.templates.all()),
              "message_template_limit": int(state.settings["template_limit"]), "are_translations_complete": True}
    return {name: values[name] for name in wanted if name in SUMMARY_FIELDS}


def list_templates(state: GraphState, url: URL, query: Mapping[str, str]) -> dict[str, Any]:
    fields = [f.strip() for f in query["fields"].split(",") if f.strip()] if query.get("fields") else DEFAULT_FIELDS
    unknown = [f for f in fields if f not in KNOWN_FIELDS]
    if unknown:
        raise invalid(f"Tried accessing nonexisting field ({unknown[0]}) on node type (WhatsAppMessageTemplate)")
    items = _selected(state, query)
    start, end = _window(query, len(items))
    answer: dict[str, Any] = {"data": [{k: t[k] for k in dict.fromkeys([*fields, "id"])} for t in items[start:end]]}
    if end > start:
        paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": _cursor(end - 1)}}
        base = {k: v for k, v in query.items() if k not in ("after", "before")}
        if end < len(items):
            paging["next"] = str(url.with_query({**base, "after": _cursor(end - 1)}))
        if start > 0:
            paging["previous"] = str(url.with_query({**base, "before": _cursor(start)}))
        answer["paging"] = paging
    if (summary := _summary(state, query, len(items))) is not None:
        answer["summary"] = summary
    return answer
