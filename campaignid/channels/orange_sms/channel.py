"""The Orange SMS channel (``kind = "sms"``): the contract's face over ``send`` and ``receipts``."""

from __future__ import annotations

from typing import Any, ClassVar

import aiohttp
from django.http import HttpRequest

from campaignid.channels.base import Channel, OutgoingMessage, SendResult, StatusUpdate

from . import conf, receipts
from .balance import balance
from .countries import route
from .send import send as send_sms


class OrangeSmsChannel(Channel):
    """One Orange developer app (client id): its token, its pace and its bundles are shared by every
    organisation or programme configured with it."""

    kind: ClassVar[str] = "sms"
    config: conf.OrangeConfig

    @classmethod
    def config_from(cls, mapping: dict[str, Any]) -> conf.OrangeConfig:
        return conf.config_from(mapping)

    @property
    def account_key(self) -> str:
        return self.config.account_key

    @property
    def rate_per_second(self) -> float:
        return self.config.rate_per_second

    async def send(self, session: aiohttp.ClientSession, message: OutgoingMessage) -> SendResult:
        return await send_sms(session, self.config, message)

    async def fetch_balance(self, session: aiohttp.ClientSession) -> dict[str, int]:
        """Usable units per country: expired bundles count as none."""
        return {iso2: 0 if entry["expired"] else int(entry["units"])
                for iso2, entry in (await balance(session, self.config)).items()}

    @classmethod
    def check_recipient(cls, recipient: str, default_country: str = "") -> None:
        route(recipient, default_country)  # SendError invalid_number / no_sms_route

    @classmethod
    def parse_callback(cls, request: HttpRequest, configs: list[dict[str, Any]], token: str = "") -> list[StatusUpdate]:
        return receipts.parse_callback(request, configs, token)
