"""Registering the receipts URL with Orange for one organisation (or programme) account.

Orange has no "list subscriptions" call, so the ids we create are kept on the account's
``ChannelConfig`` row (``settings["dr_subscriptions"]``: id and country only; the notify URL holds the
webhook secret and is never stored in plain settings).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from campaignid.channels import config as channel_config
from campaignid.channels.models import ChannelConfig
from campaignid.lib.http import client_session
from campaignid.lib.mask import mask_secret

from . import subscriptions
from .balance import balance
from .conf import OrangeConfig
from .countries import Country, country

STORE = "dr_subscriptions"


def masked_url(url: str) -> str:
    """The notify URL with its last path segment (the webhook secret) masked."""
    parts = urlsplit(url)
    head, _, secret = parts.path.rstrip("/").rpartition("/")
    return f"{parts.scheme}://{parts.netloc}{head}/{mask_secret(secret) or '…'}"


def notify_url_problems(config: OrangeConfig, notify_url: str) -> list[str]:
    """Warnings about a notify URL that would lose receipts."""
    problems = []
    parts = urlsplit(notify_url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        problems.append("the notify URL must be an absolute http(s) URL")
    elif parts.scheme != "https":
        problems.append("Orange expects an https:// notify URL")
    secret = parts.path.rstrip("/").rpartition("/")[2]
    if "/webhooks/orange-sms/" not in parts.path or secret != config.webhook_secret:
        problems.append("the notify URL should end with /webhooks/orange-sms/<this account's webhook_secret>; "
                        "receipts sent elsewhere are refused")
    return problems


def account_row(organisation, program=None) -> ChannelConfig:
    row, _ = ChannelConfig.objects.get_or_create(organisation=organisation, program=program, channel="sms")
    return row


def channel_config_for(organisation, program=None) -> OrangeConfig:
    return channel_config.build("sms", organisation.id, program.id if program else None).config


async def _with_session(fn, *args):
    async with client_session() as session:
        return await fn(session, *args)


def countries_for(config: OrangeConfig, codes: list[str]) -> list[Country]:
    """The countries named, else the account's default country, else every country it holds units in."""
    if codes:
        found = [country(c) for c in codes]
        unknown = [c for c, f in zip(codes, found, strict=True) if f is None]
        if unknown:
            raise ValueError(f"not served by Orange SMS: {', '.join(unknown)}")
        return found
    if config.default_country:
        return [country(config.default_country)]
    held = asyncio.run(_with_session(balance, config))
    return [c for c in (country(code) for code in held) if c is not None]


def subscribe(row: ChannelConfig, config: OrangeConfig, targets: list[Country], notify_url: str,
              callback_data: str) -> list[dict]:
    async def run(session):
        return [{"id": await subscriptions.create(session, config, target, notify_url, callback_data),
                 "country": target.iso2} for target in targets]

    created = asyncio.run(_with_session(run))
    row.settings = {**(row.settings or {}), STORE: [*(row.settings or {}).get(STORE, []), *created]}
    row.save(update_fields=["settings", "updated_at"])
    return created


def listing(row: ChannelConfig, config: OrangeConfig) -> list[dict]:
    async def run(session):
        out = []
        for item in (row.settings or {}).get(STORE, []):
            live = await subscriptions.read(session, config, item["id"])
            out.append({**item, "active": live is not None,
                        "notify_url": masked_url(live["notify_url"]) if live else ""})
        return out

    return asyncio.run(_with_session(run))


def unsubscribe(row: ChannelConfig, config: OrangeConfig, sub_id: str, country_code: str = "") -> bool:
    stored = (row.settings or {}).get(STORE, [])
    item = next((s for s in stored if s["id"] == sub_id), None)
    target = country(country_code or (item or {}).get("country", "") or config.default_country)
    if target is None:
        raise ValueError("give --country: the subscription's country is not known")
    existed = asyncio.run(_with_session(subscriptions.delete, config, target, sub_id))
    row.settings = {**(row.settings or {}), STORE: [s for s in stored if s["id"] != sub_id]}
    row.save(update_fields=["settings", "updated_at"])
    return existed
