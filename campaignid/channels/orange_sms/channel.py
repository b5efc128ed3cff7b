"""The Orange SMS channel (``kind = "sms"``): the contract's face over ``send`` and ``receipts``."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

import aiohttp
from django.http import HttpRequest

from campaignid.channels.base import Channel, OutgoingMessage, SendResult, StatusUpdate

from . import conf, receipts
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
        """``sms:<digest of the client id>``: the client id is a credential, so it is not shown as is."""
        digest = hashlib.sha256(f"{self.config.api_url}|{self.config.client_id}".encode()).hexdigest()[:12]
        return f"sms:{digest}"

    @property
    def rate_per_second(self) -> float:
        return self.config.rate_per_second

    async def send(self, session: aiohttp.ClientSession, message: OutgoingMessage) -> SendResult:
        return await send_sms(session, self.config, message)

    @classmethod
    def check_recipient(cls, recipient: str, default_country: str = "") -> None:
        route(recipient, default_country)  # SendError invalid_number / no_sms_route

    @classmethod
    def parse_callback(cls, request: HttpRequest, configs: list[dict[str, Any]], token: str = "") -> list[StatusUpdate]:
        return receipts.parse_callback(request, configs, token)
