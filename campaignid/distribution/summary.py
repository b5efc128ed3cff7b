"""What a bulk distribution will do, before the officer confirms it: who gets it, who cannot, the SMS
units it needs per country against the balance, and when it should finish given pacing, quiet hours and
the WhatsApp daily messaging limit."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from django.utils import timezone

from campaignid.channels import config as channel_config
from campaignid.channels.base import SendError
from campaignid.channels.orange_sms import balance as read_balance
from campaignid.channels.orange_sms import segments
from campaignid.channels.orange_sms.countries import COUNTRIES
from campaignid.distribution import engine, messages, rules, template_guard
from campaignid.distribution.limits import DailyLimit, daily_limit
from campaignid.distribution.models import Delivery
from campaignid.distribution.pacing import HEADROOM
from campaignid.lib.http import client_session
from campaignid.programs.models import Program

MESSAGE_CHANNELS = ("whatsapp", "sms")
EXACT_LIMIT = 5000  # SMS parts are counted message by message up to this many, then extrapolated


@dataclass
class Eta:
    seconds: int | None
    reasons: list[str] = field(default_factory=list)
    finish_at: datetime | None = None


@dataclass
class Summary:
    channels: list[str]
    selected: int = 0
    sendable: int = 0
    without_phone: int = 0
    opted_out: int = 0
    inactive: int = 0
    outside_sms: int = 0
    sms_by_country: list[dict] = field(default_factory=list)  # {country, recipients, units, balance, short}
    balance_error: str = ""
    sms_parts: int = 0
    gsm7_only: bool = True  # accents rewritten so each SMS stays in the 160-character GSM-7 alphabet
    eta: Eta | None = None
    warnings: list[str] = field(default_factory=list)
    daily_limit: DailyLimit | None = None  # the WhatsApp account's messaging limit, as Meta reports it now
    used_today: int = 0
    template_problem: str = ""  # why the WhatsApp template cannot be sent now (the batch would be refused)
    whatsapp_template: str = ""  # the approved template that replaces a custom message for some people
    custom_text_reaches: int | None = None  # of ``sendable``, how many get the custom message on WhatsApp


def stand_in_card(program) -> dict[str, str]:
    """A card code and holder link of the real length, to count SMS parts before the card exists."""
    from django.conf import settings

    code = f"{program.code_prefix}-XXXXXXXX"  # a prefix and 8 characters; the link carries a 22-character key
    return {"card_code": code, "verification_url": f"{settings.CAMPAIGNID_PUBLIC_URL}/c/{code}?k={'x' * 22}"}


def country_of(phone: str) -> str:
    """ISO alpha-2 of an Orange-covered E.164 number, else ``""`` (outside SMS coverage)."""
    for c in COUNTRIES:
        if phone.startswith("+" + c.dial):
            return c.iso2
    return ""


def sms_parts(template: str, program: Program, people: list[tuple[str, str]], gsm7_only: bool) -> int:
    """SMS parts needed to send ``template`` to these (first name, last name) pairs."""
    base = {"programme_name": program.name, "issue_date": "01/01/2026", "expiry_date": "01/01/2031",
            **stand_in_card(program)}
    total, cache = 0, {}
    for first, last in people:
        key = (first, last)
        if key not in cache:
            text = messages.render(template, {**base, "first_name": first, "last_name": last})
            cache[key] = segments.analyse(text, gsm7_only)[1].segments
        total += cache[key]
    return total


def eta(count: int, rate: float, start: datetime, program: Program, daily_limit: int | None = None,
        used_today: int = 0) -> Eta:
    """Seconds to send ``count`` messages at ``rate`` per second from ``start``, waiting out quiet hours
    (local time of the programme) and the WhatsApp daily limit of unique recipients."""
    if count <= 0:
        return Eta(0, [], start)
    if rate <= 0:
        return Eta(None, ["not_configured"])
    reasons = []
    seconds = count / (rate * HEADROOM)
    if start > timezone.now() + timedelta(seconds=60):
        reasons.append("scheduled")
    if rules.in_quiet_hours(start, program.timezone, program.options):
        seconds += (rules.quiet_ends_at(start, program.timezone, program.options) - start).total_seconds()
        reasons.append("quiet_hours")
    if daily_limit:
        room = max(0, daily_limit - used_today)
        if count > room:
            days = math.ceil((count - room) / daily_limit)
            seconds = max(seconds, days * 86400.0)
            reasons.append("daily_messaging_limit")
    return Eta(int(seconds), reasons or ["pacing"], start + timedelta(seconds=seconds))


def _channel(kind: str, program: Program):
    try:
        return channel_config.build(kind, program.organisation_id, program.pk)
    except channel_config.NotConfigured:
        return None


def _used_today(account_key: str) -> int:
    since = timezone.now() - timedelta(hours=24)
    return (Delivery.objects.filter(channel="whatsapp", provider_account=account_key, sent_at__gte=since)
            .values("recipient").distinct().count())


def _balance(channel) -> dict:
    async def read():
        async with client_session() as session:
            return await read_balance(session, channel.config)

    return async_to_sync(read)()


def _sms_rows(qs, program: Program, template: str, gsm7: bool) -> dict[str, dict]:
    """Recipients and SMS parts per covered country: parts counted message by message for the first
    ``EXACT_LIMIT`` people, then extrapolated per country to the others."""
    rows: dict[str, dict] = {}
    for n, (phone, first, last) in enumerate(qs.values_list("phone", "first_name", "last_name").iterator()):
        iso = country_of(phone)
        if not iso:
            continue
        row = rows.setdefault(iso, {"country": iso, "recipients": 0, "units": 0, "counted": 0})
        row["recipients"] += 1
        if n < EXACT_LIMIT:
            row["units"] += sms_parts(template, program, [(first, last)], gsm7)
            row["counted"] += 1
    for row in rows.values():
        if row["counted"] < row["recipients"]:
            per_message = row["units"] / row["counted"] if row["counted"] else 1
            row["units"] = math.ceil(row["recipients"] * per_message)
    return rows


def _sms(summary: Summary, qs, program: Program, template: str) -> None:
    channel = _channel("sms", program)
    summary.gsm7_only = bool(channel.config.gsm7_only) if channel else True
    rows = _sms_rows(qs, program, template, summary.gsm7_only)
    summary.outside_sms = summary.sendable - sum(r["recipients"] for r in rows.values())
    summary.sms_parts = sum(r["units"] for r in rows.values())
    units = {}
    if channel is None:
        summary.balance_error = "not_configured"
    else:
        try:
            units = _balance(channel)
        except SendError as exc:
            summary.balance_error = exc.message
    for row in sorted(rows.values(), key=lambda r: -r["recipients"]):
        left = units.get(row["country"], {}).get("units") if units else None
        row["balance"], row["short"] = left, left is not None and left < row["units"]
        summary.sms_by_country.append(row)


def _custom_whatsapp(summary: Summary, qs, program: Program) -> None:
    """How many would get the custom text on WhatsApp: everyone when the template carries it, else only
    people inside the 24 h window (the others receive the approved template's own text)."""
    channel = _channel("whatsapp", program)
    if channel is None or channel.template_carries_text():
        return
    from campaignid.distribution.contact_models import Contact

    summary.whatsapp_template = (channel.template_for(program.language) or ("", ""))[0]
    summary.custom_text_reaches = Contact.objects.filter(
        account=channel.account_key, window_until__gt=timezone.now(),
        phone__in=qs.values("phone")).values("phone").distinct().count()


def summarise(scope, program: Program, selection: dict, channels: list[str], message: str,
              scheduled_at: datetime | None = None) -> Summary:
    summary = Summary(channels=channels)
    first = channels[0]
    qs = engine.selection_queryset(scope, program, selection, first)
    summary.selected = qs.count()
    summary.opted_out = qs.filter(opted_out=True).count()
    reachable = qs.filter(opted_out=False)
    if first in MESSAGE_CHANNELS:
        summary.without_phone = reachable.filter(phone="").count()
        reachable = reachable.exclude(phone="")
    summary.sendable = reachable.count()
    if "sms" in channels:
        template = message or program.template_for("sms")
        _sms(summary, reachable, program, template)
        if first == "sms":  # nobody outside Orange's coverage can receive it: not counted as receiving
            summary.sendable -= summary.outside_sms
    if "whatsapp" in channels and message.strip():
        _custom_whatsapp(summary, reachable, program)
    found = template_guard.problem_for(program, channels)
    summary.template_problem = found.message if found else ""
    channel = _channel(first, program)
    start = scheduled_at or timezone.now()
    if channel is None:
        summary.eta = Eta(None, ["not_configured"])
    else:
        if first == "whatsapp":
            summary.daily_limit = daily_limit(channel)
        limit = summary.daily_limit.recipients if summary.daily_limit else None
        summary.used_today = used = _used_today(channel.account_key) if limit else 0
        summary.eta = eta(summary.sendable, channel.rate_per_second, start, program, limit, used)
    return summary

