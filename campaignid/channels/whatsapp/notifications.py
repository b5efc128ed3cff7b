"""Everything else a verified Meta notification carries, mapped to provider-neutral events.

- ``messages`` field, ``value.messages[]``: a user wrote to us. ``from`` is the phone (withheld for users
  with a username), ``from_user_id`` the business-scoped user ID (BSUID), also in ``value.contacts[]``.
  It opens the 24 h customer service window (the reply is marked read by ``WhatsAppChannel.mark_read``).
- ``type: system`` messages (no ``contacts`` array): ``user_changed_number`` (``system.wa_id`` new phone,
  ``system.user_id`` its new BSUID, ``from``/``from_user_id`` the old ones) and ``user_changed_user_id``
  (only the BSUID changed: ``from_user_id`` old, ``system.user_id`` new; no phone).
- ``message_template_status_update`` (``event``), ``message_template_quality_update``
  (``new_quality_score``) and ``template_category_update`` (``new_category``) about one template.
"""

from __future__ import annotations

from typing import Any

from campaignid.channels.events import CallbackEvents, ContactRef, IdentityChange, InboundMessage, TemplateChange

from .callbacks import account_of, changes, phone_of, status_update, when

WINDOW_HOURS = 24.0
TEMPLATE_STATUS = {"APPROVED": "approved", "REINSTATED": "approved", "UNARCHIVED": "approved",
                   "PENDING": "pending", "IN_APPEAL": "pending", "REJECTED": "rejected", "PAUSED": "paused",
                   "DISABLED": "disabled", "ARCHIVED": "archived", "PENDING_DELETION": "deleted",
                   "DELETED": "deleted"}
QUALITY = {"GREEN": "high", "YELLOW": "medium", "RED": "low", "UNKNOWN": "unknown"}
MAX_ID = 140


def _user_id(raw: Any) -> str:
    return str(raw or "").strip()[:MAX_ID]


def _contacts(value: dict[str, Any]) -> dict[str, ContactRef]:
    """``value.contacts[]`` by BSUID and by phone, so a message finds its sender's both identifiers."""
    found: dict[str, ContactRef] = {}
    for item in value.get("contacts") or []:
        if not isinstance(item, dict):
            continue
        ref = ContactRef(phone=phone_of(item.get("wa_id")), user_id=_user_id(item.get("user_id")),
                         parent_user_id=_user_id(item.get("parent_user_id")))
        for key in (ref.user_id, ref.phone):
            if key:
                found[key] = ref
    return found


def _sender(message: dict[str, Any], contacts: dict[str, ContactRef]) -> ContactRef:
    phone, user_id = phone_of(message.get("from")), _user_id(message.get("from_user_id"))
    known = contacts.get(user_id) or contacts.get(phone) or ContactRef()
    return ContactRef(phone=phone or known.phone, user_id=user_id or known.user_id,
                      parent_user_id=_user_id(message.get("from_parent_user_id")) or known.parent_user_id)


def _identity(message: dict[str, Any], account: str) -> IdentityChange | None:
    system = message.get("system") if isinstance(message.get("system"), dict) else {}
    kind = {"user_changed_number": "number", "user_changed_user_id": "user_id"}.get(str(system.get("type")))
    if kind is None:
        return None
    before = ContactRef(phone=phone_of(message.get("from")), user_id=_user_id(message.get("from_user_id")))
    after = ContactRef(phone=phone_of(system.get("wa_id")) if kind == "number" else before.phone,
                       user_id=_user_id(system.get("user_id")))
    if not before or not after:
        return None
    return IdentityChange(account=account, before=before, after=after, at=when(message.get("timestamp")), kind=kind)


def _messages(value: dict[str, Any], events: CallbackEvents) -> None:
    account = account_of(value)
    for obj in value.get("statuses") or []:
        if (update := status_update(obj, account)) is not None:
            events.statuses.append(update)
    contacts = _contacts(value)
    for message in value.get("messages") or []:
        if not isinstance(message, dict):
            continue
        if message.get("type") == "system":
            if (change := _identity(message, account)) is not None:
                events.identities.append(change)
            continue
        sender = _sender(message, contacts)
        if sender and message.get("id"):
            events.inbound.append(InboundMessage(account=account, message_id=str(message["id"])[:200],
                                                 contact=sender, at=when(message.get("timestamp")),
                                                 window_hours=WINDOW_HOURS))


def _template(owner: str, field: str, value: dict[str, Any], at: Any) -> TemplateChange | None:
    name, language = value.get("message_template_name"), value.get("message_template_language")
    if not name or not language:
        return None
    common = {"owner": owner, "name": str(name)[:512], "language": str(language)[:20], "at": when(at)}
    if field == "message_template_status_update":
        status = TEMPLATE_STATUS.get(str(value.get("event", "")).upper(), "other")
        return TemplateChange(**common, status=status, reason=str(value.get("reason") or "")[:200],
                              category=str(value.get("message_template_category") or "").lower())
    if field == "message_template_quality_update":
        return TemplateChange(**common, quality=QUALITY.get(str(value.get("new_quality_score")).upper(), "unknown"),
                              previous_quality=QUALITY.get(str(value.get("previous_quality_score")).upper(), ""))
    return TemplateChange(**common, category=str(value.get("new_category") or "").lower(),
                          previous_category=str(value.get("previous_category") or "").lower())


TEMPLATE_FIELDS = ("message_template_status_update", "message_template_quality_update", "template_category_update")


def events_from(payload: Any) -> CallbackEvents:
    events = CallbackEvents()
    times = {str(e.get("id", "")): e.get("time") for e in (payload.get("entry") or []) if isinstance(e, dict)} \
        if isinstance(payload, dict) else {}
    for owner, field, value in changes(payload):
        if field == "messages":
            _messages(value, events)
        elif field in TEMPLATE_FIELDS and (change := _template(owner, field, value, times.get(owner))) is not None:
            events.templates.append(change)
    return events
