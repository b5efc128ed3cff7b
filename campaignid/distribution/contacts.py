"""Contacts: the provider's identifiers of a beneficiary's phone on one account, learned from callbacks.

- A status names its recipient by phone and/or provider-scoped user ID (WhatsApp BSUID): the pair is
  stored beside the phone we hold (``learn``), so a later callback that withholds the phone still matches.
- A status whose message ID matches no delivery (the send was not recorded yet, or its process died) is
  matched by contact: the one delivery to that phone on that account still waiting for its message ID.
- An inbound message opens the free-form window on our side (``window_until``) and is marked read.
- Identity changes: a new number (``moved_to`` on the old contact, a contact for the new number with its
  new user ID) or a new user ID (the old one kept in ``previous_user_ids``).

Never logged: phones are masked, user IDs are not written at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from campaignid.channels.base import StatusUpdate
from campaignid.channels.events import ContactRef, IdentityChange, InboundMessage

from .contact_models import Contact
from .models import Delivery, Status

log = logging.getLogger("campaignid.distribution.contacts")


def _scoped(qs, organisations: list[int] | None):
    return qs if organisations is None else qs.filter(Q(organisation_id__in=organisations) |
                                                      Q(organisation__isnull=True))


def find(account: str, ref: ContactRef, organisations: list[int] | None = None) -> Contact | None:
    """The contact for ``ref`` on ``account``: by user ID (current or previous) first, then by phone."""
    qs = _scoped(Contact.objects.filter(account=account), organisations)
    if ref.user_id:
        found = qs.filter(user_id=ref.user_id).first()
        if found is not None:
            return found
    if ref.phone:
        return qs.filter(phone=ref.phone).first()
    return None


def phones_for(account: str, user_ids: Iterable[str], organisations: list[int] | None) -> dict[str, str]:
    qs = _scoped(Contact.objects.filter(account=account, user_id__in=list(user_ids)).exclude(phone=""),
                 organisations)
    return dict(qs.values_list("user_id", "phone"))


def learn(pairs: list[tuple[int, str, str, str]]) -> int:
    """Store (organisation, account, phone, user ID) seen together in callbacks; returns rows changed.
    One SELECT, then one prepared INSERT for new contacts (statuses arrive by the thousand)."""
    wanted = {(account, phone): (org, user_id) for org, account, phone, user_id in pairs if phone and user_id}
    if not wanted:
        return 0
    rows = Contact.objects.filter(account__in={a for a, _ in wanted}, phone__in={p for _, p in wanted})
    existing = {(a, p): (pk, uid, prev) for pk, a, p, uid, prev in
                rows.values_list("pk", "account", "phone", "user_id", "previous_user_ids")}
    changed, fresh = [], []
    for (account, phone), (org, user_id) in wanted.items():
        found = existing.get((account, phone))
        if found is None:
            fresh.append((org, account, phone, user_id))
        elif found[1] != user_id:
            previous = [*(found[2] or []), found[1]][-10:] if found[1] else found[2] or []
            changed.append(Contact(pk=found[0], user_id=user_id, previous_user_ids=previous))
    _insert(fresh)
    Contact.objects.bulk_update(changed, ["user_id", "previous_user_ids"])
    return len(fresh) + len(changed)


def _insert(rows: list[tuple[int, str, str, str]]) -> None:
    if not rows:
        return
    qn, now = connection.ops.quote_name, timezone.now()
    columns = ("organisation_id", "account", "phone", "user_id", "parent_user_id", "previous_user_ids",
               "moved_to", "updated_at")
    sql = (f"INSERT INTO {qn(Contact._meta.db_table)} ({', '.join(qn(c) for c in columns)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT DO NOTHING")
    stamp = Contact._meta.get_field("updated_at").get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(org, account, phone, user_id, "", "[]", "", stamp)
                                 for org, account, phone, user_id in rows])


def match_waiting(kind: str, updates: list[StatusUpdate], organisations: list[int] | None) -> dict[str, int]:
    """Delivery IDs for statuses whose message ID matched none, by their recipient's phone or user ID: only
    when exactly one delivery to that person on that account is still waiting for its message ID. Three
    queries whatever the number of updates."""
    wanted = [u for u in updates if u.contact and u.account and u.provider_message_id]
    by_user: dict[tuple[str, str], str] = {}
    for account in {u.account for u in wanted if not u.contact.phone and u.contact.user_id}:
        user_ids = {u.contact.user_id for u in wanted if u.account == account and not u.contact.phone}
        by_user.update({(account, uid): phone for uid, phone in phones_for(account, user_ids, organisations).items()})
    phone_of = {u.provider_message_id: u.contact.phone or by_user.get((u.account, u.contact.user_id), "")
                for u in wanted}
    # Waiting for its message ID: accepted without one, or handed over with an unknown outcome (a pending row
    # never handed over cannot be the message a status is about).
    waiting_id = Q(status=Status.SENT) | Q(status=Status.PENDING, in_doubt_since__isnull=False)
    qs = Delivery.objects.filter(waiting_id, channel=kind, provider_message_id="",
                                 provider_account__in={u.account for u in wanted},
                                 recipient__in={p for p in phone_of.values() if p})
    if organisations is not None:
        qs = qs.filter(organisation_id__in=organisations)
    waiting: dict[tuple[str, str], list[int]] = {}
    for pk, account, phone in qs.values_list("pk", "provider_account", "recipient")[:10_000]:
        waiting.setdefault((account, phone), []).append(pk)
    found = {}
    for u in wanted:
        pks = waiting.get((u.account, phone_of[u.provider_message_id]), [])
        if len(pks) == 1:
            found[f"contact:{u.provider_message_id}"] = pks[0]
    return found


def record_inbound(message: InboundMessage, organisations: list[int] | None) -> Contact:
    """Open (or extend) the free-form window with this person on this account."""
    contact = find(message.account, message.contact, organisations)
    if contact is None:
        contact = Contact(organisation_id=organisations[0] if organisations else None, account=message.account,
                          phone=message.contact.phone, user_id=message.contact.user_id)
    if message.contact.user_id and contact.user_id != message.contact.user_id:
        contact.user_id = message.contact.user_id
    if message.contact.phone and not contact.phone:
        contact.phone = message.contact.phone
    contact.parent_user_id = message.contact.parent_user_id or contact.parent_user_id
    until = message.at + timedelta(hours=message.window_hours)
    if contact.window_until is None or until > contact.window_until:
        contact.window_until = until
    contact.last_inbound_at = max(filter(None, [contact.last_inbound_at, message.at]))
    contact.not_on_whatsapp_at = None  # they wrote to us: on this channel after all
    contact.save()
    return contact


def apply_identity_change(change: IdentityChange, organisations: list[int] | None) -> Contact | None:
    """A new number or a new user ID for a person we know; unknown people are ignored."""
    contact = find(change.account, change.before, organisations)
    if contact is None:
        return None
    old_user_id = contact.user_id
    if change.kind == "user_id":
        contact.user_id = change.after.user_id
        if old_user_id:
            contact.previous_user_ids = [*contact.previous_user_ids, old_user_id][-10:]
        contact.save()
        return contact
    contact.moved_to = change.after.phone
    contact.save(update_fields=["moved_to", "updated_at"])
    moved, _ = Contact.objects.update_or_create(
        account=change.account, phone=change.after.phone,
        defaults={"organisation_id": contact.organisation_id, "user_id": change.after.user_id,
                  "previous_user_ids": [old_user_id] if old_user_id else []})
    log.info("a contact on %s changed number (contact %s → %s)", change.account, contact.pk, moved.pk)
    return moved


def window_open(account: str, phone: str, at: datetime) -> bool:
    """Whether this person wrote to this account recently enough for a free-form message."""
    return Contact.objects.filter(account=account, phone=phone, window_until__gt=at).exists()
