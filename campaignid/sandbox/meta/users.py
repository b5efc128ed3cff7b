"""WhatsApp users as Meta identifies them since April 2026: phone number (``wa_id``), business-scoped user
ID (BSUID, ``user_id``) and an optional username.

From Meta's "Business-scoped user IDs" page and the "Status / System messages webhook reference" pages:
- a BSUID identifies one user within one business portfolio: two-letter ISO country code, a dot, then up
  to 128 alphanumerics (``SN.1502576394655843``); it is stable while the user keeps their number;
- a phone number change produces a new BSUID (``user_changed_number`` system message, new ``wa_id`` and
  ``user_id``); Meta may also rotate the BSUID alone (``user_changed_user_id``, no phone number included);
- a user who adopts a username may have their phone number withheld from webhooks (``from``,
  ``recipient_id`` and ``contacts[].wa_id`` absent; ``user_id`` always present). Meta's contact book keeps
  showing the number for recent conversations; the sandbox setting ``usernames_withhold_phone`` (default
  true) models the general-availability case where it is withheld.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import phonenumbers


def country_of(wa_id: str) -> str:
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + wa_id))
    except phonenumbers.NumberParseException:
        region = None
    return region if region and len(region) == 2 and region.isalpha() else "ZZ"


@dataclass
class User:
    wa_id: str
    user_id: str
    username: str = ""
    name: str = ""
    previous_user_ids: list[str] = field(default_factory=list)


MAX_USERS = 200_000  # oldest plain users are forgotten past this (a forgotten user gets a new BSUID)


class Users:
    """The directory of WhatsApp users the sandbox has seen, keyed by phone number."""

    def __init__(self, portfolio: str) -> None:
        self.portfolio = portfolio
        self.by_phone: dict[str, User] = {}
        self.by_user_id: dict[str, User] = {}
        self.rotation = 0

    def _new_user_id(self, wa_id: str) -> str:
        self.rotation += 1
        seed = f"{self.portfolio}:{wa_id}:{self.rotation}".encode()
        digits = str(int.from_bytes(hashlib.sha256(seed).digest()[:8], "big"))
        return f"{country_of(wa_id)}.{digits}"

    def get(self, wa_id: str) -> User:
        user = self.by_phone.get(wa_id)
        if user is None:
            if len(self.by_phone) >= MAX_USERS:
                self._forget_oldest()
            user = User(wa_id, self._new_user_id(wa_id))
            self.by_phone[wa_id] = user
            self.by_user_id[user.user_id] = user
        return user

    def _forget_oldest(self) -> None:
        for wa_id, user in list(self.by_phone.items())[:MAX_USERS // 10]:
            if not user.username and not user.previous_user_ids:
                del self.by_phone[wa_id]
                self.by_user_id.pop(user.user_id, None)

    def find(self, identifier: str) -> User | None:
        return self.by_user_id.get(identifier) or self.by_phone.get(identifier.lstrip("+"))

    def adopt_username(self, wa_id: str, username: str | None, name: str = "") -> User:
        user = self.get(wa_id)
        user.username = username or ""
        user.name = name or user.name
        return user

    def change_number(self, old: str, new: str) -> tuple[User, str]:
        """The user moved to ``new``: a new BSUID; returns (user, old BSUID)."""
        user = self.get(old)
        previous = user.user_id
        del self.by_phone[old]
        self.by_phone.pop(new, None)
        user.wa_id = new
        user.previous_user_ids.append(previous)
        user.user_id = self._new_user_id(new)
        self.by_phone[new] = user
        self.by_user_id[user.user_id] = user
        return user, previous

    def rotate_user_id(self, wa_id: str) -> tuple[User, str]:
        user = self.get(wa_id)
        previous = user.user_id
        user.previous_user_ids.append(previous)
        user.user_id = self._new_user_id(wa_id)
        self.by_user_id[user.user_id] = user
        return user, previous

    def as_list(self) -> list[dict[str, Any]]:
        return [{"wa_id": u.wa_id, "user_id": u.user_id, "username": u.username or None,
                 "previous_user_ids": list(u.previous_user_ids)} for u in self.by_phone.values()]


def phone_withheld(user: User, settings: dict[str, Any]) -> bool:
    return bool(user.username) and bool(settings.get("usernames_withhold_phone", True))


def contact(user: User, settings: dict[str, Any], *, profile: bool = False) -> dict[str, Any]:
    """One ``contacts[]`` item: ``wa_id`` unless withheld, always ``user_id``; inbound messages add a profile."""
    item: dict[str, Any] = {}
    if profile:
        item["profile"] = {"name": user.name or ""}
        if user.username:
            item["profile"]["username"] = user.username
    if not phone_withheld(user, settings):
        item["wa_id"] = user.wa_id
    item["user_id"] = user.user_id
    return item


def system_number_changed(user: User, old_wa_id: str, old_user_id: str, wamid: str, at: float,
                          settings: dict[str, Any]) -> dict[str, Any]:
    """``messages[]`` item of a ``user_changed_number`` system webhook (no ``contacts`` array)."""
    message: dict[str, Any] = {"from": old_wa_id, "from_user_id": old_user_id, "id": wamid,
                               "timestamp": str(int(at)), "type": "system",
                               "system": {"body": f"User {user.name or user.wa_id} changed from {old_wa_id} to "
                                                  f"{user.wa_id}",
                                          "wa_id": user.wa_id, "user_id": user.user_id,
                                          "type": "user_changed_number"}}
    if phone_withheld(user, settings):
        message.pop("from")
    return message


def system_user_id_changed(user: User, old_user_id: str, wamid: str, at: float) -> dict[str, Any]:
    """``messages[]`` item of a ``user_changed_user_id`` system webhook: only the BSUID change, no phone."""
    return {"from_user_id": old_user_id, "id": wamid, "timestamp": str(int(at)), "type": "system",
            "system": {"body": f"User {user.name or 'A WhatsApp user'} changed from {old_user_id} to "
                               f"{user.user_id}",
                       "user_id": user.user_id, "type": "user_changed_user_id"}}
