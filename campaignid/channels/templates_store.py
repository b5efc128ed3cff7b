"""Message templates as the provider last reported them: full syncs (periodic and on demand) and the
template webhooks in between.

A template is *usable* when it is approved, Meta has not re-categorised it since an administrator last
accepted its category, and its quality is not below the quality last accepted. ``problem`` says why not;
``accept`` records an administrator's acceptance of the current category and quality.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from django.utils import timezone

from campaignid.lib.http import client_session

from . import config as channel_config
from .base import SendError
from .events import QUALITY_RANK, TemplateChange, TemplateInfo
from .models import MessageTemplate

log = logging.getLogger("campaignid.channels.templates")


@dataclass(frozen=True)
class SyncResult:
    owner: str
    seen: int = 0
    changed: int = 0
    error: str = ""


_AFTER_SYNC: list = []


def add_sync_hook(hook) -> None:
    """``hook()`` runs after templates were read from the provider and returns what it did (the
    distribution engine pauses the batches whose template went wrong and returns their IDs)."""
    if hook not in _AFTER_SYNC:
        _AFTER_SYNC.append(hook)


def after_sync() -> list:
    return [item for hook in _AFTER_SYNC for item in hook()]


def _rank(quality: str) -> int:
    return QUALITY_RANK.get(quality, 0)


def _raise_accepted_quality(row: MessageTemplate) -> None:
    """A better quality than the accepted one becomes the new reference (a drop is never accepted silently)."""
    if not row.accepted_quality or (_rank(row.quality) > _rank(row.accepted_quality)):
        row.accepted_quality = row.quality if row.quality in QUALITY_RANK else row.accepted_quality


def upsert(kind: str, owner: str, infos: list[TemplateInfo]) -> int:
    """Store a full listing of ``owner``'s templates; those no longer listed are marked deleted."""
    now, changed = timezone.now(), 0
    rows = {(r.name, r.language): r for r in MessageTemplate.objects.filter(channel=kind, owner=owner)}
    for info in infos:
        row = rows.pop((info.name, info.language), None) or MessageTemplate(
            channel=kind, owner=owner, name=info.name, language=info.language, accepted_category=info.category)
        before = (row.status, row.category, row.quality)
        row.status, row.category, row.quality, row.reason = info.status, info.category, info.quality, info.reason
        row.provider_id, row.content, row.synced_at = info.provider_id, info.as_dict(), now
        _raise_accepted_quality(row)
        if before != (row.status, row.category, row.quality):
            row.changed_at, changed = now, changed + 1
        row.save()
    for row in rows.values():
        if row.status != "deleted":
            row.status, row.changed_at, row.synced_at, changed = "deleted", now, now, changed + 1
            row.save(update_fields=["status", "changed_at", "synced_at"])
    return changed


def apply_change(kind: str, change: TemplateChange) -> MessageTemplate:
    """One template webhook: the row is created if the template was never synced (Meta rates and
    re-categorises only approved templates, so a quality or category notice implies an approved one)."""
    row, _ = MessageTemplate.objects.get_or_create(
        channel=kind, owner=change.owner, name=change.name, language=change.language,
        defaults={"accepted_category": change.previous_category or change.category,
                  "accepted_quality": change.previous_quality, "status": change.status or "approved"})
    if change.status:
        row.status, row.reason = change.status, change.reason
    if change.category:
        row.category = change.category
        row.accepted_category = row.accepted_category or change.previous_category or change.category
    if change.quality:
        row.quality = change.quality
        _raise_accepted_quality(row)
    row.changed_at = change.at
    row.save()
    return row


def problem(row: MessageTemplate) -> str:
    """"" when the template can be sent; else ``not_approved``, ``category_changed`` or ``quality_dropped``."""
    if row.status != "approved":
        return "not_approved"
    if row.accepted_category and row.category != row.accepted_category:
        return "category_changed"
    if row.accepted_quality and _rank(row.quality) < _rank(row.accepted_quality):
        return "quality_dropped"
    return ""


def accept(row: MessageTemplate) -> None:
    row.accepted_category, row.accepted_quality = row.category, row.quality
    row.save(update_fields=["accepted_category", "accepted_quality"])


def _fetch(channel) -> list[TemplateInfo]:
    async def run():
        async with client_session() as session:
            return await channel.fetch_templates(session)

    return asyncio.run(run())


def sync_channel(kind: str, channel) -> SyncResult:
    owner = channel.template_owner
    if not owner:
        return SyncResult(owner="", error="no template owner (waba_id) configured")
    try:
        infos = _fetch(channel)
    except SendError as exc:
        log.warning("template sync of %s failed: %s", kind, exc.code)
        return SyncResult(owner=owner, error=exc.message)
    return SyncResult(owner=owner, seen=len(infos), changed=upsert(kind, owner, infos))


def sync_organisation(kind: str, organisation_id: int) -> SyncResult:
    """The dashboard's "Sync now": the organisation's own account (or the deployment's it uses)."""
    try:
        channel = channel_config.build(kind, organisation_id)
    except channel_config.NotConfigured as exc:
        return SyncResult(owner="", error=str(exc))
    return sync_channel(kind, channel)


def sync_all(kind: str = "whatsapp") -> list[SyncResult]:
    """Every configured account of ``kind``, each template owner once (the periodic task)."""
    from .registry import channel_class

    cls, results, seen = channel_class(kind), [], set()
    for _, mapping in channel_config.callback_configs(kind):
        try:
            channel = cls(cls.config_from(mapping))
        except (KeyError, ValueError):
            continue
        if channel.template_owner and channel.template_owner not in seen:
            seen.add(channel.template_owner)
            results.append(sync_channel(kind, channel))
    return results
