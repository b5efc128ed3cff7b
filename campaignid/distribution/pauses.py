"""Per-country pauses of a sending account, and the balance checks that set and lift them.

Orange sells SMS bundles per country: when Burkina Faso's bundle is used up (POL0001), only recipients in
Burkina Faso wait; Senegal keeps sending. A pause is lifted by an administrator (``resume_channel``) or,
for an exhausted bundle, as soon as the provider's balance shows units again (checked when a batch starts
and every minute while SMS wait).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from campaignid.channels import config as channel_config
from campaignid.lib.http import client_session
from campaignid.lib.phone import dial_prefix

from .models import Alert, Batch, CountryPause, Delivery, Status

log = logging.getLogger("campaignid.distribution.pauses")
PAUSE = timedelta(hours=24)
NO_UNITS = "no_units"


def pause_country(org_id: int, kind: str, country: str, code: str, category: str, message: str,
                  now: datetime | None = None) -> CountryPause | None:
    """Hold this organisation's ``kind`` deliveries to ``country``, and alert once."""
    now = now or timezone.now()
    prefix = dial_prefix(country)
    if not prefix:
        return None
    current = CountryPause.objects.filter(organisation_id=org_id, channel=kind, country=country).first()
    if current is not None and current.paused_until > now:
        return current
    row, _ = CountryPause.objects.update_or_create(
        organisation_id=org_id, channel=kind, country=country,
        defaults={"dial_prefix": prefix, "code": code, "category": category, "reason": message[:300],
                  "paused_until": now + PAUSE, "created_at": now})
    Alert.objects.create(organisation_id=org_id, channel=kind, code=code, category=category,
                         message=f"{country}: {message}"[:500])
    log.error("%s sending to %s paused for organisation %s (%s %s)", kind, country, org_id, code, category)
    return row


def blocked_q(now: datetime) -> Q | None:
    """Deliveries held by a country pause (None when there is none)."""
    blocked = None
    for org_id, kind, prefix in CountryPause.objects.filter(paused_until__gt=now).values_list(
            "organisation_id", "channel", "dial_prefix"):
        one = Q(organisation_id=org_id, channel=kind, recipient__startswith=prefix)
        blocked = one if blocked is None else blocked | one
    return blocked


def lift(org_id: int, kind: str, countries: list[str] | None = None, now: datetime | None = None) -> int:
    """End the pauses (all, or of ``countries``) and make what they held due now."""
    now = now or timezone.now()
    rows = CountryPause.objects.filter(organisation_id=org_id, channel=kind)
    if countries is not None:
        rows = rows.filter(country__in=countries)
    prefixes = list(rows.values_list("dial_prefix", flat=True))
    rows.delete()
    if not prefixes:
        return 0
    held = Q(recipient__startswith=prefixes[0])
    for prefix in prefixes[1:]:
        held |= Q(recipient__startswith=prefix)
    return Delivery.objects.filter(held, organisation_id=org_id, channel=kind, status=Status.PENDING,
                                   retryable=True, next_attempt_at__gt=now).update(next_attempt_at=now, updated_at=now)


def waiting(batch: Batch, now: datetime | None = None) -> list[dict]:
    """The countries of this batch that wait, why, and how many of its deliveries they hold."""
    now = now or timezone.now()
    out = []
    for pause in CountryPause.objects.filter(organisation_id=batch.organisation_id, channel__in=batch.channels,
                                             paused_until__gt=now).order_by("country"):
        held = Delivery.objects.filter(batch=batch, channel=pause.channel, status=Status.PENDING,
                                       recipient__startswith=pause.dial_prefix).aggregate(n=Count("id"))["n"]
        if held:
            out.append({"country": pause.country, "channel": pause.channel, "category": pause.category,
                        "code": pause.code, "pending": held, "since": pause.created_at})
    return out


def _balance(kind: str, org_id: int, program_id: int | None) -> dict[str, int] | None:
    channel = channel_config.build(kind, org_id, program_id)

    async def fetch():
        async with client_session() as session:
            return await channel.fetch_balance(session)

    return asyncio.run(fetch())


def check_balances(org_id: int, program_id: int | None, kind: str = "sms") -> dict[str, int]:
    """Pause the countries whose bundle is empty (where deliveries wait) and lift the pauses of those
    refilled. Returns the units per country (empty when the provider could not say)."""
    try:
        units = _balance(kind, org_id, program_id) or {}
    except Exception as exc:  # a balance we cannot read changes nothing; sends still meet POL0001
        log.warning("cannot read the %s balance of organisation %s: %s", kind, org_id, exc)
        return {}
    pending = Delivery.objects.filter(organisation_id=org_id, channel=kind, status=Status.PENDING)
    for country, left in units.items():
        prefix = dial_prefix(country)
        if left <= 0 and prefix and pending.filter(recipient__startswith=prefix).exists():
            pause_country(org_id, kind, country, NO_UNITS, "quota_exhausted",
                          "No SMS units left for this country: buy a bundle.")
    refilled = [c for c, left in units.items() if left > 0]
    exhausted = CountryPause.objects.filter(organisation_id=org_id, channel=kind, category="quota_exhausted",
                                            country__in=refilled)
    if exhausted.exists():
        lift(org_id, kind, list(exhausted.values_list("country", flat=True)))
    return units


def check_waiting_batches() -> None:
    """Every minute: the balance of each organisation with SMS batches running (one call per account)."""
    seen = set()
    for org_id, program_id, channels in Batch.objects.filter(state=Batch.State.RUNNING).values_list(
            "organisation_id", "program_id", "channels"):
        if "sms" in (channels or []) and (org_id, program_id) not in seen:
            seen.add((org_id, program_id))
            check_balances(org_id, program_id)
