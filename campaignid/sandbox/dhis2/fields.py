"""DHIS2 field selection (`fields=a,b[c,d],*,!x`) and metadata object filters (`filter=p:op:v`).

Metadata semantics: a referenced identifiable object selected without sub-fields shows as `{"id": …}`,
embedded objects (program attributes, type attributes) show in full. Tracker objects are never collapsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .versions import QueryError

PRESETS = {
    ":identifiable": ["id", "name", "code", "created", "lastUpdated", "displayName"],
    ":nameable": ["id", "name", "shortName", "code", "created", "lastUpdated", "displayName", "displayShortName"],
}
EMBEDDED = {"programTrackedEntityAttributes", "trackedEntityTypeAttributes", "userCredentials", "access",
            "sharing", "translations", "attributeValues", "style"}


@dataclass
class Spec:
    all: bool = False
    include: dict[str, Spec | None] = field(default_factory=dict)
    exclude: set[str] = field(default_factory=set)


ALL = Spec(all=True)


def _split(text: str) -> list[str]:
    """Split on top-level commas, keeping bracketed groups together."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def parse(text: str | None, default: str) -> Spec:
    return _parse(text if text else default)


def _parse(text: str) -> Spec:
    spec = Spec()
    for part in _split(text):
        name, sub = part, None
        for open_, close in ("[]", "()"):
            if open_ in part and part.endswith(close):
                name, sub = part[: part.index(open_)], part[part.index(open_) + 1: -1]
                break
        name = name.split("~", 1)[0].split("::", 1)[0].strip()
        if name in ("*", ":all"):
            spec.all = True
        elif name in PRESETS:
            for preset in PRESETS[name]:
                spec.include.setdefault(preset, None)
        elif name.startswith("!"):
            spec.exclude.add(name[1:])
        elif name:
            spec.include[name] = _parse(sub) if sub is not None else spec.include.get(name)
    return spec


def select(obj: Any, spec: Spec, collapse: bool) -> Any:
    """Keep the selected fields of ``obj`` (a dict or a list of dicts)."""
    if isinstance(obj, list):
        return [select(item, spec, collapse) for item in obj]
    if not isinstance(obj, dict):
        return obj
    out: dict[str, Any] = {}
    names = list(obj) if spec.all else []
    names += [n for n in spec.include if n not in names]
    for name in names:
        if name in spec.exclude or name not in obj:
            continue
        sub = spec.include.get(name)
        out[name] = select(obj[name], sub, collapse) if sub is not None else _leaf(name, obj[name], collapse)
    return out


def _leaf(name: str, value: Any, collapse: bool) -> Any:
    if not collapse:
        return value
    if name in EMBEDDED:
        return select(value, ALL, collapse)
    if isinstance(value, dict) and "id" in value:
        return {"id": value["id"]}
    if isinstance(value, list):
        return [{"id": v["id"]} if isinstance(v, dict) and "id" in v else v for v in value]
    return value


# -- metadata filters ------------------------------------------------------------------------------

def _values(obj: Any, path: list[str]) -> list[Any]:
    if not path:
        return obj if isinstance(obj, list) else [obj]
    if isinstance(obj, list):
        return [v for item in obj for v in _values(item, path)]
    if not isinstance(obj, dict) or path[0] not in obj:
        return []
    return _values(obj[path[0]], path[1:])


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _compare(op: str, values: list[Any], arg: str) -> bool:
    texts = [_text(v) for v in values if v is not None]
    negate = op.startswith("!")
    base = op.lstrip("!")
    if base in ("null", "empty"):
        result = not texts
    elif base == "eq":
        result = arg in texts
    elif base == "ieq":
        result = arg.lower() in (t.lower() for t in texts)
    elif base in ("like", "ilike", "token"):
        result = any(arg.lower() in t.lower() for t in texts)
    elif base in ("$like", "$ilike"):
        result = any(t.lower().startswith(arg.lower()) for t in texts)
    elif base in ("like$", "ilike$"):
        result = any(t.lower().endswith(arg.lower()) for t in texts)
    elif base == "in":
        wanted = {w.strip() for w in arg.strip("[]").split(",")}
        result = any(t in wanted for t in texts)
    elif base == "ne":
        result, negate = arg in texts, True
    elif base in ("gt", "ge", "lt", "le"):
        result = any(_ordered(base, t, arg) for t in texts)
    else:
        raise QueryError(f"Unsupported operator: {op}", "bad")
    return result != negate


def _ordered(op: str, left: str, right: str) -> bool:
    try:
        a, b = float(left), float(right)
    except ValueError:
        a, b = left, right  # type: ignore[assignment]
    return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]


def matches(obj: dict[str, Any], filters: list[str], root_junction: str = "AND") -> bool:
    results = []
    for expression in filters:
        parts = expression.split(":", 2)
        if len(parts) < 2:
            raise QueryError(f"Invalid filter: {expression}", "bad")
        prop, op, arg = parts[0], parts[1], parts[2] if len(parts) > 2 else ""
        results.append(_compare(op, _values(obj, prop.split(".")), arg))
    return any(results) if root_junction.upper() == "OR" else all(results)
