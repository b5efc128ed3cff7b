"""The org unit hierarchy (DHIS2 ``organisationUnits``): stored by the DHIS2 sync, read by the reach report.

``save_tree`` takes DHIS2-shaped objects (``id, name, level, path, parent{id}``, optionally ``ancestors``
of the same shape) and upserts them with their ancestors. ``Tree`` answers what the report needs: each
leaf's ancestors, a unit's children among the units in use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .models import UID_RE, Organisation, OrgUnit


def _node(obj: dict) -> dict | None:
    uid = str(obj.get("id") or "")
    if not UID_RE.match(uid):
        return None
    path = str(obj.get("path") or "")
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts or parts[-1] != uid or not all(UID_RE.match(p) for p in parts):
        parts = []  # no usable path: known by name only, placed under "unknown" by the report
    parent = (obj.get("parent") or {}).get("id") or (parts[-2] if len(parts) > 1 else "")
    level = obj.get("level") if isinstance(obj.get("level"), int) else len(parts)
    return {"uid": uid, "name": str(obj.get("name") or obj.get("displayName") or "")[:230], "level": level or 0,
            "parent": str(parent)[:11], "path": ("/" + "/".join(parts)) if parts else ""}


def save_tree(organisation: Organisation, objects: Iterable[dict]) -> int:
    """Upsert the org units and their ancestors (an ancestor without a path gets one from its descendant)."""
    nodes: dict[str, dict] = {}
    for obj in objects:
        node = _node(obj)
        if node is None:
            continue
        nodes[node["uid"]] = node
        parts = node["path"].strip("/").split("/") if node["path"] else []
        for a in obj.get("ancestors") or []:
            anc = _node({**a, "path": a.get("path") or (
                "/" + "/".join(parts[: parts.index(a.get("id")) + 1]) if a.get("id") in parts else "")})
            if anc and anc["uid"] not in nodes:
                nodes[anc["uid"]] = anc
    existing = {o.uid: o for o in OrgUnit.objects.filter(organisation=organisation, uid__in=list(nodes))}
    new, changed = [], []
    for uid, n in nodes.items():
        o = existing.get(uid)
        if o is None:
            new.append(OrgUnit(organisation=organisation, **n))
        elif any(getattr(o, k) != v for k, v in n.items() if v or k == "name"):
            for k, v in n.items():
                if v or k == "name":
                    setattr(o, k, v)
            changed.append(o)
    OrgUnit.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    OrgUnit.objects.bulk_update(changed, ["name", "level", "parent", "path"], batch_size=500)
    return len(new) + len(changed)


UNKNOWN = "unknown"


@dataclass
class Tree:
    """The stored units of an organisation that lie above some leaves: uid → (name, level, ancestor UIDs)."""

    names: dict[str, str] = field(default_factory=dict)
    levels: dict[str, int] = field(default_factory=dict)
    chains: dict[str, list[str]] = field(default_factory=dict)  # leaf → [root, …, leaf]; missing: unknown

    @classmethod
    def of(cls, organisation: Organisation, leaves: Iterable[str]) -> Tree:
        leaves = set(leaves)
        tree = cls()
        rows = OrgUnit.objects.filter(organisation=organisation, uid__in=list(leaves)).values_list(
            "uid", "name", "level", "path")
        needed: set[str] = set()
        for uid, name, level, path in rows:
            chain = [p for p in path.strip("/").split("/") if p]
            if chain and chain[-1] == uid:
                tree.chains[uid] = chain
                needed.update(chain)
            tree.names[uid], tree.levels[uid] = name, level
        for uid, name, level in OrgUnit.objects.filter(organisation=organisation, uid__in=list(needed - set(
                tree.names))).values_list("uid", "name", "level"):
            tree.names[uid], tree.levels[uid] = name, level
        return tree

    def chain(self, leaf: str) -> list[str] | None:
        return self.chains.get(leaf)
