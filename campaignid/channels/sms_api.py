"""``POST /api/v1/sms/segments`` (count and optionally transliterate) and ``GET /api/v1/sms/balance``."""

from __future__ import annotations

import asyncio

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from campaignid.api.errors import ApiError
from campaignid.channels import config as channel_config
from campaignid.channels.base import SendError
from campaignid.lib.http import client_session

from .orange_sms import segments
from .orange_sms.balance import balance
from .orange_sms.countries import COUNTRIES, country

router = Router(tags=["sms"])


class SegmentsIn(Schema):
    text: str = Field(..., max_length=10_000, description="The SMS text, already personalised")
    transliterate: bool = Field(False, description="Rewrite French typography to GSM-7 (ê→e, « »→\", …)")


class SegmentsOut(Schema):
    encoding: str = Field(..., description="gsm7 or ucs2")
    segments: int = Field(..., description="SMS parts billed")
    units: int = Field(..., description="GSM-7 septets or UCS-2 (UTF-16) units")
    characters: int
    non_gsm_characters: list[str] = Field(..., description="Characters that force UCS-2")
    transliterated_text: str | None = Field(None, description="The text as it would be sent, when asked")


@router.post("/sms/segments", response=SegmentsOut, summary="Count the SMS parts of a text (GSM-7 / UCS-2)")
def count_segments(request: HttpRequest, payload: SegmentsIn):
    return segments.describe(payload.text, payload.transliterate)


class BalanceFilter(Schema):
    programme: str | None = Field(None, description="DHIS2 programme UID (its own SMS account, if any)")
    country: str | None = Field(None, max_length=3, description="ISO 3166 alpha-2 (or alpha-3) code of a country "
                                "Orange serves, to ask about that country only")


class CountryBalance(Schema):
    units: int
    expires: str | None
    expired: bool


class BalanceOut(Schema):
    countries: dict[str, CountryBalance]


def _program_id(scope, programme: str | None) -> int | None:
    if not programme:
        return None
    program = scope.programs().filter(dhis2_program_uid=programme).first()
    if program is None:
        raise ApiError(404, "programme_not_found", f"No programme {programme!r} for this organisation.")
    return program.id


async def _read(channel, country: str) -> dict:
    async with client_session() as session:
        return await balance(session, channel.config, country)


@router.get("/sms/balance", response=BalanceOut, summary="SMS units left per country (Orange bundles)")
def sms_balance(request: HttpRequest, filters: Query[BalanceFilter]):
    scope = request.auth
    if filters.country and country(filters.country) is None:
        raise ApiError(422, "invalid_country", f"{filters.country[:3]!r} is not a country Orange SMS serves; use one "
                       f"of {', '.join(c.iso2 for c in COUNTRIES)}.")
    try:
        channel = channel_config.build("sms", scope.organisation.id, _program_id(scope, filters.programme))
    except channel_config.NotConfigured as exc:
        raise ApiError(409, "sms_not_configured", str(exc)) from exc
    try:
        countries = asyncio.run(_read(channel, filters.country or ""))
    except SendError as exc:
        raise ApiError(502, "provider_error", exc.message, {"category": exc.category}) from exc
    return {"countries": countries}
