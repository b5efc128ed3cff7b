"""``PrintChannel``: the engine hands it groups of cards; each health post of a group gets one PDF sheet.

A delivery's provider ID is its sheet ID; it is ``sent`` ("printed") once the sheet is on disk. The
sheet is written to a temporary name and renamed, so a sheet that exists is complete.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from ..base import CardView, Channel, OutgoingMessage, SendError, SendResult
from .conf import RATE_PER_SECOND, PrintConfig, from_mapping
from .sheets import write_sheet

log = logging.getLogger("campaignid.channels.print")
SHEET_ID = re.compile(r"^[0-9]{8}-[0-9a-f]{8}-[A-Za-z0-9_-]{1,40}$")


@dataclass(frozen=True)
class PrintItem:
    card: CardView
    language: str
    org_unit: str = ""
    org_unit_name: str = ""
    org_unit_path: str = ""
    household: str = ""

    @property
    def sort_key(self) -> tuple:
        c = self.card
        return (self.org_unit_path, self.org_unit_name, self.household, c.last_name.casefold(),
                c.first_name.casefold(), c.code)


@dataclass(frozen=True)
class SheetGroup:
    sheet_id: str
    org_unit_name: str
    programme_name: str
    language: str


def item_of(message: OutgoingMessage) -> PrintItem:
    v = message.variables
    return PrintItem(card=message.card, language=message.language, org_unit=v.get("org_unit", ""),
                     org_unit_name=v.get("org_unit_name", ""), org_unit_path=v.get("org_unit_path", ""),
                     household=v.get("household", ""))


def new_sheet_id(org_unit: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]", "", org_unit)[:40] or "none"
    return f"{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}-{slug}"


class PrintChannel(Channel):
    kind = "print"
    needs_recipient = False
    config: PrintConfig
    batch_size = 500  # one engine chunk: a health post's cards of a chunk share one sheet

    @classmethod
    def config_from(cls, mapping: dict[str, Any]) -> PrintConfig:
        return from_mapping(mapping)

    @property
    def account_key(self) -> str:
        return "print:local"

    @property
    def rate_per_second(self) -> float:
        return RATE_PER_SECOND

    def sheet_path(self, sheet_id: str) -> Path:
        if not SHEET_ID.match(sheet_id or ""):
            raise ValueError(f"not a sheet ID: {sheet_id!r}")
        return self.config.spool / f"{sheet_id}.pdf"

    async def send(self, session: aiohttp.ClientSession, message: OutgoingMessage) -> SendResult:
        outcome = (await self.send_many(session, [message]))[0]
        if isinstance(outcome, SendError):
            raise outcome
        return outcome

    async def send_many(self, session: aiohttp.ClientSession | None, messages: list[OutgoingMessage], *,
                        pace=None) -> list[SendResult | SendError]:
        return await asyncio.to_thread(self.print_many, messages)

    def print_many(self, messages: list[OutgoingMessage]) -> list[SendResult | SendError]:
        """Outcomes in the order of ``messages``: one sheet per (programme, org unit)."""
        outcomes: list[SendResult | SendError | None] = [None] * len(messages)
        groups: dict[tuple[str, str], list[tuple[int, PrintItem]]] = {}
        for i, message in enumerate(messages):
            if message.card is None or not message.card.token:
                outcomes[i] = SendError("no_card", "invalid_request", "A printed card needs an issued card.")
                continue
            item = item_of(message)
            groups.setdefault((item.card.programme_uid, item.org_unit), []).append((i, item))
        for (_programme, org_unit), members in groups.items():
            members.sort(key=lambda pair: pair[1].sort_key)
            for i, outcome in self._print_group(org_unit, members):
                outcomes[i] = outcome
        return [o if o is not None else SendError("not_printed", "provider_down", "Not printed.", retryable=True)
                for o in outcomes]

    def _print_group(self, org_unit: str, members: list[tuple[int, PrintItem]]):
        first = members[0][1]
        group = SheetGroup(new_sheet_id(org_unit), first.org_unit_name, first.card.programme_name, first.language)
        path = self.sheet_path(group.sheet_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            part = path.with_suffix(".part")
            with open(part, "wb") as out:
                pages = write_sheet(out, group, [item for _, item in members], self.config.layout)
            os.replace(part, path)
        except OSError as exc:
            log.error("print sheet %s could not be written: %s", group.sheet_id, exc.strerror)
            error = SendError("spool_unwritable", "provider_down", "The print sheet could not be written.",
                              retryable=True)
            return [(i, error) for i, _ in members]
        log.info("print sheet %s: %d cards, %d pages", group.sheet_id, len(members), pages)
        return [(i, SendResult(provider_message_id=group.sheet_id,
                               details={"sheet": group.sheet_id, "position": n, "pages": pages}))
                for n, (i, _) in enumerate(members, 1)]
