"""Remaining SMS units per country, from ``GET /sms/admin/v1/contracts`` (both response shapes).

- v2.0: a JSON array of contracts ``{country (alpha-3), availableUnits, expirationDate, status, …}``;
- older: ``{"partnerContracts": {"contracts": [{"serviceContracts": [{country, availableUnits,
  expires | expirationDate}]}]}}``.

Several contracts of one country are added up (see ``summarise``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp

from . import client, errors
from .conf import OrangeConfig
from .countries import country


def _contracts(body: Any) -> list[dict]:
    if isinstance(body, list):
        return [c for c in body if isinstance(c, dict)]
    if isinstance(body, dict):
        partner = body.get("partnerContracts")
        if isinstance(partner, dict):
            out = []
            for contract in partner.get("contracts") or []:
                if isinstance(contract, dict):
                    out.extend(c for c in contract.get("serviceContracts") or [] if isinstance(c, dict))
            return out
        if isinstance(body.get("contracts"), list):
            return _contracts(body["contracts"])
    return []


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _units(value: Any) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def summarise(body: Any, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """``{iso2: {"units", "expires", "expired"}}`` from either response shape.

    ``units`` counts only contracts that have not expired (Orange does not let expired units be used);
    ``expires`` (ISO 8601 or None) is the earliest expiry among them that still hold units; ``expired``
    is true when the country's only contracts are past their date.
    """
    now = now or datetime.now(UTC)
    out: dict[str, dict[str, Any]] = {}
    for contract in _contracts(body):
        code = str(contract.get("country") or "").upper()
        if not code:
            continue
        found = country(code)
        entry = out.setdefault(found.iso2 if found else code, {"units": 0, "expires": None, "expired": True})
        units = _units(contract.get("availableUnits"))
        expires = _when(contract.get("expirationDate") or contract.get("expires"))
        if expires is not None and expires <= now:
            continue
        entry["expired"] = False
        entry["units"] += units
        if expires and units > 0 and (entry["expires"] is None or expires < entry["expires"]):
            entry["expires"] = expires
    for entry in out.values():
        at = entry["expires"]
        entry["expires"] = at.isoformat().replace("+00:00", "Z") if at else None
    return out


async def balance(session: aiohttp.ClientSession, config: OrangeConfig,
                  country_code: str = "") -> dict[str, dict[str, Any]]:
    """Units left per country (``country_code``: ISO alpha-2 or alpha-3 to ask about one)."""
    params = None
    if country_code:
        found = country(country_code)
        params = {"country": found.iso3 if found else country_code.upper()}
    answer = await client.call(session, config, "GET", client.CONTRACTS, params=params)
    if answer.status != 200:
        raise errors.from_response(answer.status, answer.body, answer.headers)
    return summarise(answer.body)
