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

from django.db.models import Q

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
    """Store (organisation, account, phone, user ID) seen together in callbacks; returns rows changed."""
    wanted = {(account, phone): (org, user_id) for org, account, phone, user_id in pairs if phone and user_id}
    if not wanted:
        return 0
    rows = Contact.objects.filter(account__in={a for a, _ in wanted}, phone__in={p for _, p in wanted})
    existing = {(c.account, c.phone): c for c in rows}
    changed, fresh = [], []
    for (account, phone), (org, user_id) in wanted.items():
        contact = existing.get((account, phone))
        if contact is None:
            fresh.append(Contact(organisation_id=org, account=account, phone=phone, user_id=user_id))
        elif contact.user_id != user_id:
            if contact.user_id:
                contact.previous_user_ids = [*contact.previous_user_ids, contact.user_id][-10:]
            contact.user_id = user_id
            changed.append(contact)
    Contact.objects.bulk_create(fresh, ignore_conflicts=True)
    Contact.objects.bulk_update(changed, ["user_id", "previous_user_ids", "updated_at"])
    return len(fresh) + len(changed)


def match_waiting(kind: str, updates: list[StatusUpdate], organisations: list[int] | None) -> dict[str, Delivery]:
    """Deliveries for statuses whose message ID matched none, by their recipient's phone or user ID: only
    when exactly one delivery to that person on that account is still waiting for its message ID."""
    found: dict[str, Delivery] = {}
    for update in updates:
        ref = update.contact
        if not ref or not update.account or not update.provider_message_id:
            continue
        phone = ref.phone or phones_for(update.account, [ref.user_id], organisations).get(ref.user_id, "")
        if not phone:
            continue
        qs = Delivery.objects.filter(channel=kind, provider_account=update.account, recipient=phone,
                                     provider_message_id="", status__in=[Status.PENDING, Status.SENT])
        if organisations is not None:
            qs = qs.filter(organisation_id__in=organisations)
        candidates = list(qs[:2])
        if len(candidates) == 1:
            found[f"contact:{update.provider_message_id}"] = candidates[0]
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
