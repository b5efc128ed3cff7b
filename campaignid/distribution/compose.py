"""Build what a channel sends from a delivery, and the waiting rules evaluated at claim time."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from campaignid.cards import service as cards
from campaignid.cards.card_image import local_date
from campaignid.cards.render import format_date
from campaignid.channels.base import CardView, HouseholdView, OutgoingMessage
from campaignid.programs import logos
from campaignid.programs.models import Program

from . import messages, rules, text_plan
from .models import Delivery

CACHE_SECONDS = 15.0
_cache: dict[str, tuple[float, object]] = {}
_cache_lock = threading.Lock()
_account_limits: dict[str, int] = {}


class ComposeError(Exception):
    def __init__(self, code: str, category: str, message: str) -> None:
        super().__init__(message)
        self.code, self.category = code, category


def _cached(name: str, compute):
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(name)
        if hit and now - hit[0] < CACHE_SECONDS:
            return hit[1]
    value = compute()
    with _cache_lock:
        _cache[name] = (now, value)
    return value


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def correlation_key(delivery_id: int) -> str:
    """Our reference for one delivery at a provider (e.g. Orange's clientCorrelator): unique per
    deployment, so two databases sharing a provider account never collide."""
    return f"cid-{deployment_id()}-{delivery_id}"


def deployment_id() -> str:
    from django.conf import settings

    return hashlib.sha256(settings.SECRET_KEY.encode()).hexdigest()[:8]


def variables(d: Delivery) -> dict[str, str]:
    b, program, card = d.beneficiary, d.program, d.card
    lang = program.language
    out = {"first_name": b.first_name, "last_name": b.last_name, "programme_name": program.name,
           "card_code": card.code if card else "", "verification_url": cards.holder_url(card) if card else "",
           "issue_date": "", "expiry_date": ""}
    out.update(org_unit=b.org_unit, org_unit_name=b.org_unit_name, household=str(b.attributes.get("household") or ""),
               org_unit_path=str(b.attributes.get("org_unit_path") or b.org_unit_name))  # print sheets sort on these
    if card:
        out["issue_date"] = format_date(local_date(card.issued_at, program), lang)
        out["expiry_date"] = format_date(local_date(card.expires_at, program), lang) if card.expires_at else ""
    return out


def card_view(d: Delivery) -> CardView | None:
    if d.card is None:
        return None
    return card_of(d.card, d.beneficiary, d.program)


def card_of(card, beneficiary=None, program=None) -> CardView:
    """What a provider is given of a card (its PNG rendered only if the provider asks for it)."""
    b, program = beneficiary or card.beneficiary, program or card.program
    card.program = program  # the image loader runs inside the event loop: no query may happen there
    program.organisation  # noqa: B018 - loaded here (the card's issuer), not inside the loop
    return CardView(
        code=card.code, version=card.version, display_name=card.display_name, first_name=b.first_name,
        last_name=b.last_name, programme_name=program.name, programme_uid=program.dhis2_program_uid,
        issued_at=local_date(card.issued_at, program),
        expires_at=local_date(card.expires_at, program) if card.expires_at else None, token=card.token,
        png=lambda: cards.card_png(card), verification_url=cards.verification_url(card),
        holder_url=cards.holder_url(card), primary_colour=program.primary_colour,
        logo_url=logos.public_url(program), status=cards.card_status(card), qr_text=cards.qr_text(card),
    )


def outgoing(d: Delivery) -> OutgoingMessage:
    if d.channel in ("whatsapp", "sms") and not d.recipient:
        raise ComposeError("no_recipient", "no_recipient", "No phone number for this beneficiary.")
    if d.beneficiary.opted_out:
        raise ComposeError("opted_out", "opted_out", "The beneficiary opted out of messages.")
    program = d.program
    values = variables(d)
    household = household_view(d, values) if d.carries else None
    template = d.message or program.template_for("sms" if d.channel == "sms" else "whatsapp")
    if household is not None:  # one message for the household's cards: its own text, with the household link
        template = program.template_for("sms_household" if d.channel == "sms" else "whatsapp_household")
    try:
        text = messages.render(template, values, messages.HOUSEHOLD_VARIABLES if household else messages.VARIABLES)
    except messages.TemplateError as exc:
        raise ComposeError("template", "template", str(exc)) from exc
    values["message"] = text  # a template's free-text parameter carries it (text_plan.TEMPLATE_WITH_TEXT)
    return OutgoingMessage(
        delivery_id=d.pk, recipient=d.recipient, text=text, language=program.language, card=card_view(d),
        variables=values, use_template=_needs_template(d, program) or household is not None,
        idempotency_key=correlation_key(d.pk), household=household,
    )


def household_view(d: Delivery, values: dict[str, str]) -> HouseholdView | None:
    """The cards a bundle carries (its own first, then those of the rows it carries, by first name)."""
    from campaignid.cards.household_pdf import household_filename, render_household_pdf

    from . import households

    rows = [d, *Delivery.objects.filter(carried_by=d).select_related("beneficiary", "card").order_by("id")]
    views = tuple(card_of(r.card, r.beneficiary, d.program) for r in rows if r.card_id)
    if len(views) < 2:
        return None
    home = households.household_for(d.program, d.recipient or d.beneficiary.phone)
    link, lang = households.url(home), d.program.language
    values.update(card_count=str(len(views)), household_url=link)
    return HouseholdView(code=home.code, url=link, cards=views, filename=household_filename(home.code, lang=lang),
                         pdf=lambda: render_household_pdf(list(views), lang=lang, household=home.code))


def _needs_template(d: Delivery, program: Program) -> bool:
    """Free-form WhatsApp messages only reach a person who wrote to this account in the last 24 h (the
    window is opened on our side by their inbound message): a custom message (or every message, when the
    programme allows free-form) goes free-form inside the window; anyone else gets the approved template."""
    if d.channel != "whatsapp" or not text_plan.free_form_wanted(program, bool(d.message)):
        return True
    return not text_plan.window_open(d.provider_account, d.recipient, timezone.now())


# --- waiting rules -------------------------------------------------------------------------------------
def programs_in_quiet_hours(now: datetime) -> set[int]:
    def compute():
        return {p.pk for p in Program.objects.only("id", "timezone", "options")
                if rules.in_quiet_hours(now, p.timezone, p.options)}

    return _cached("quiet", compute)


def paused_accounts(now: datetime) -> list[tuple[int, int | None, str]]:
    """(organisation, programme or None for the organisation's account, channel) paused right now."""
    from campaignid.channels.models import ChannelConfig

    return ChannelConfig.objects.filter(paused_until__gt=now).values_list(
        "organisation_id", "program_id", "channel").distinct()


def remember_limit(account_key: str, limit: int | None) -> None:
    if limit:
        _account_limits[account_key] = int(limit)


def capped_accounts(now: datetime) -> list[str]:
    """WhatsApp accounts that reached their messaging-limit tier (unique recipients in 24 h)."""
    if not _account_limits:
        return []

    def compute():
        used = dict(Delivery.objects.filter(channel="whatsapp", sent_at__gte=now - timedelta(hours=24),
                                            provider_account__in=list(_account_limits))
                    .values_list("provider_account").annotate(n=Count("recipient", distinct=True)))
        return [key for key, limit in _account_limits.items() if used.get(key, 0) >= limit]

    return _cached("capped", compute)
