"""What a verified callback carried besides statuses: inbound messages (window, read receipt), identity
changes (contacts) and template changes (stored; batches using a template that went wrong pause).

An organisation's credentials only vouch for its own accounts: a callback signed with them may change
contacts of those accounts and templates of those template owners, nothing else.
"""

from __future__ import annotations

import logging

from campaignid.channels import config as channel_config
from campaignid.channels import registry, templates_store
from campaignid.channels.events import CallbackEvents

from . import contacts, template_guard

log = logging.getLogger("campaignid.distribution.callbacks")


def _vouched(kind: str, organisations: list[int] | None) -> tuple[set[str], set[str]] | None:
    """(accounts, template owners) the signing credentials belong to; None: the deployment's, any."""
    if organisations is None:
        return None
    cls, accounts, owners = registry.channel_class(kind), set(), set()
    for org_id, mapping in channel_config.callback_configs(kind):
        if org_id not in organisations:
            continue
        try:
            channel = cls(cls.config_from(mapping))
        except (KeyError, ValueError):
            continue
        accounts.add(channel.account_key)
        owners.add(channel.template_owner)
    return accounts, owners


def ingest_events(kind: str, events: CallbackEvents, organisations: list[int] | None) -> None:
    if not (events.inbound or events.identities or events.templates):
        return
    vouched = _vouched(kind, organisations)
    for message in events.inbound:
        if vouched is None or message.account in vouched[0]:
            contacts.record_inbound(message, organisations)
            from campaignid.channels.tasks import mark_read

            mark_read(kind, message.account, message.message_id, organisations)
    for change in events.identities:
        if vouched is None or change.account in vouched[0]:
            contacts.apply_identity_change(change, organisations)
    for change in events.templates:
        if vouched is not None and change.owner not in vouched[1]:
            log.warning("%s template change for an account these credentials do not own was ignored", kind)
            continue
        row = templates_store.apply_change(kind, change)
        template_guard.pause_affected(row)
