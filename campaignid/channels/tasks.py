"""Queue tasks of the channels: mark inbound WhatsApp messages read, keep message templates in sync."""

from __future__ import annotations

import asyncio
import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from campaignid.lib.http import client_session

log = logging.getLogger("campaignid.channels.tasks")


def channel_for_account(kind: str, account: str, organisations: list[int] | None):
    """The configured channel whose account key is ``account`` (among ``organisations``' when given)."""
    from . import config as channel_config
    from .registry import channel_class

    cls = channel_class(kind)
    for org_id, mapping in channel_config.callback_configs(kind):
        if organisations is not None and org_id not in organisations:
            continue
        try:
            channel = cls(cls.config_from(mapping))
        except (KeyError, ValueError):
            continue
        if channel.account_key == account:
            return channel
    return None


@db_task(retries=3, retry_delay=30)
def mark_read(kind: str, account: str, message_id: str, organisations: list[int] | None = None) -> bool:
    """Tell the provider we read a person's message (WhatsApp shows them blue ticks); retried if it fails."""
    channel = channel_for_account(kind, account, organisations)
    if channel is None:
        log.warning("no %s account %s configured to mark a message read", kind, account)
        return False

    async def run():
        async with client_session() as session:
            await channel.mark_read(session, message_id)

    asyncio.run(run())
    return True


@db_periodic_task(crontab(minute="*/30"))
def sync_templates() -> int:
    """Every 30 minutes: read every account's templates, then pause batches whose template went wrong."""
    from .stale_media import prune
    from .templates_store import after_sync, sync_all

    results = sync_all("whatsapp")
    after_sync()
    prune()
    return sum(r.changed for r in results)
