"""The pre-launch check of a bulk send: each item green (``ok``), ``warning`` or ``blocking`` with a plain
reason, from one function that the dashboard's review page and ``POST /api/v1/distributions/check`` both
call. ``create_distribution`` refuses what blocks (``enforce``), so no path launches a send the check
would stop.

Items (``code``): ``selection`` (who is selected, who will receive it), ``channel:<kind>`` (configured, not
paused by a provider), ``whatsapp_template`` (approved, quality, category), ``whatsapp_media`` (the card image
can be drawn and is within Meta's size limit), ``sms_balance`` (Orange units per country against the units
needed), ``eta`` (pacing, quiet hours, the WhatsApp daily limit), ``cost:<kind>``
(from the organisation's rate card), ``contacts`` (who has no usable contact and what happens to them),
``not_on_whatsapp`` (numbers Meta said have no WhatsApp: where their cards go), ``households`` (shared phones;
a number typed for everyone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campaignid.channels import config as channel_config
from campaignid.lib.errors import Invalid
from campaignid.programs.models import Program

from . import engine, households, template_guard
from . import summary as summaries

OK, WARNING, BLOCKING = "ok", "warning", "blocking"
ORDER = {OK: 0, WARNING: 1, BLOCKING: 2}
NO_CONTACT_CHANNELS = ("google_wallet", "print")  # reach a beneficiary without a phone number
CHANNEL_NAMES = {"whatsapp": "WhatsApp", "sms": "SMS", "google_wallet": "Google Wallet", "print": "Print"}


@dataclass
class Item:
    code: str
    level: str
    title: str
    reason: str
    figures: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"code": self.code, "level": self.level, "title": self.title, "reason": self.reason,
                "figures": self.figures}


@dataclass
class Check:
    items: list[Item]
    summary: summaries.Summary | None = None
    households: households.Summary | None = None

    @property
    def level(self) -> str:
        return max((i.level for i in self.items), key=ORDER.__getitem__, default=OK)

    @property
    def blocking(self) -> list[Item]:
        return [i for i in self.items if i.level == BLOCKING]

    def as_dict(self) -> dict:
        return {"level": self.level, "can_start": not self.blocking, "items": [i.as_dict() for i in self.items]}


def _name(kind: str) -> str:
    return _("Print") if kind == "print" else CHANNEL_NAMES.get(kind, kind)


# --- items that block (also enforced when a distribution is created) -------------------------------------
def channel_items(program: Program, channels: list[str]) -> list[Item]:
    items = []
    for position, kind in enumerate(channels):
        title = _("%(channel)s channel") % {"channel": _name(kind)}
        paused = channel_config.paused(kind, program.organisation_id, program.pk)
        if paused is not None:
            items.append(Item(f"channel:{kind}", BLOCKING, title, _(
                "Sending on %(channel)s is paused after a provider error (%(reason)s); an administrator must "
                "resume it on the Integrations page.") % {"channel": _name(kind), "reason": paused.paused_reason
                                                          or "—"}, {"position": position}))
            continue
        try:
            channel_config.build(kind, program.organisation_id, program.pk)
        except channel_config.NotConfigured as exc:
            items.append(Item(f"channel:{kind}", BLOCKING, title, _(
                "%(channel)s is not configured: %(problem)s") % {"channel": _name(kind), "problem": exc},
                {"position": position}))
            continue
        items.append(Item(f"channel:{kind}", OK, title, _("Configured and not paused."), {"position": position}))
    return items


def template_item(program: Program, channels: list[str]) -> Item | None:
    if "whatsapp" not in channels or program.options.get("whatsapp_free_form", False):
        return None
    title = _("WhatsApp template")
    problem = template_guard.problem_for(program, channels)
    if problem is not None:
        return Item("whatsapp_template", BLOCKING, title, problem.message, {"problem": problem.code})
    row = template_guard.template_of(program, channels)
    if row is None:
        return Item("whatsapp_template", WARNING, title, _(
            "The template's status at Meta is not known yet (templates not synced): it is checked again at the "
            "first send."))
    return Item("whatsapp_template", OK, title, _(
        "%(name)s (%(language)s) is approved, quality %(quality)s, category %(category)s.") % {
        "name": row.name, "language": row.language, "quality": template_guard.word(row.quality or "unknown"),
        "category": template_guard.word(row.category or "utility")},
        {"template": row.name, "language": row.language})


WHATSAPP_IMAGE_LIMIT = 5 * 1024 * 1024  # Meta's limit for image/png and image/jpeg media


def _stand_in_png(program: Program) -> bytes:
    """The programme's card drawn for a stand-in holder (long name, a token of the real length)."""
    from campaignid.cards.card_image import card_face
    from campaignid.cards.models import Card
    from campaignid.cards.render import render_png

    now = timezone.now()
    card = Card(program=program, code=summaries.stand_in_card(program)["card_code"], token="X" * 400,
                display_name="Aminata Diallo-Traoré Ouédraogo", issued_at=now, expires_at=now)
    return render_png(card_face(card))


def _logo_readable(program: Program) -> bool:
    if not program.logo:
        return True
    from PIL import Image

    try:
        with Image.open(program.logo.path) as logo:
            logo.load()
    except Exception:  # missing file, not an image, truncated upload
        return False
    return True


def media_item(program: Program, channels: list[str]) -> Item | None:
    """The card image WhatsApp sends: it can be drawn with the programme's look and Meta accepts its size."""
    if "whatsapp" not in channels:
        return None
    title = _("WhatsApp card image")
    try:
        data = _stand_in_png(program)
    except Exception as exc:  # a logo that cannot be read, a font missing: no card could be sent
        return Item("whatsapp_media", BLOCKING, title, _(
            "The card image cannot be drawn with this programme's look (%(error)s): fix the logo on the "
            "programme's page.") % {"error": type(exc).__name__})
    size = {"bytes": len(data)}
    if not _logo_readable(program):
        return Item("whatsapp_media", WARNING, title, _(
            "The programme's logo cannot be read: cards are drawn without it. Upload it again on the "
            "programme's page."), size)
    if len(data) > WHATSAPP_IMAGE_LIMIT:
        return Item("whatsapp_media", BLOCKING, title, _(
            "The card image weighs %(kb)s kB, over WhatsApp's 5 MB limit for images: use a lighter logo.") % {
            "kb": len(data) // 1024}, size)
    return Item("whatsapp_media", OK, title, _(
        "A PNG of about %(kb)s kB, within WhatsApp's 5 MB limit for images; uploaded to Meta at the first "
        "send.") % {"kb": max(1, round(len(data) / 1024))}, size)


def balance_item(s: summaries.Summary) -> Item | None:
    if "sms" not in s.channels:
        return None
    title = _("Orange SMS balance")
    rows = [{k: r[k] for k in ("country", "recipients", "units", "balance", "short")} for r in s.sms_by_country]
    figures = {"units_needed": s.sms_parts, "countries": rows}
    if s.balance_error:
        return Item("sms_balance", WARNING, title, _("The SMS balance could not be read (%(error)s): the units "
                                                     "needed cannot be checked.") % {"error": s.balance_error},
                    figures)
    short = [r for r in rows if r["short"]]
    empty = [r for r in rows if r["balance"] == 0]
    if rows and s.channels[0] == "sms" and len(empty) == len(rows):
        return Item("sms_balance", BLOCKING, title, _(
            "Every country's SMS bundle is empty (%(countries)s): nothing could be sent. Top the bundles up "
            "with Orange first.") % {"countries": ", ".join(r["country"] for r in empty)}, figures)
    if short:
        return Item("sms_balance", WARNING, title, _(
            "Not enough units in %(countries)s: messages to those countries wait until the bundle is topped "
            "up.") % {"countries": ", ".join(f"{r['country']} ({r['balance']} / {r['units']})" for r in short)},
            figures)
    return Item("sms_balance", OK, title, ngettext("%(n)s unit needed, available in every country.",
                                                   "%(n)s units needed, available in every country.",
                                                   s.sms_parts) % {"n": s.sms_parts}, figures)


# --- the rest -------------------------------------------------------------------------------------------
def _selection_item(s: summaries.Summary) -> Item:
    title = _("Recipients")
    figures = {"selected": s.selected, "sendable": s.sendable, "without_phone": s.without_phone,
               "opted_out": s.opted_out, "outside_sms": s.outside_sms}
    if not s.sendable:
        return Item("selection", WARNING, title, _("Nobody in this selection can receive it."), figures)
    return Item("selection", OK, title, ngettext("%(n)s of %(total)s selected will receive it.",
                                                 "%(n)s of %(total)s selected will receive it.", s.sendable)
                % {"n": s.sendable, "total": s.selected}, figures)


def _contacts_item(s: summaries.Summary) -> Item:
    title = _("Without a usable contact")
    missing = s.without_phone + (s.outside_sms if s.channels[0] == "sms" else 0)
    figures = {"without_phone": s.without_phone, "opted_out": s.opted_out,
               "outside_sms": s.outside_sms if s.channels[0] == "sms" else 0}
    then = next((c for c in s.channels[1:] if c in NO_CONTACT_CHANNELS), None)
    if not missing and not s.opted_out:
        return Item("contacts", OK, title, _("Everyone selected has a number this channel reaches."), figures)
    if then == "print":
        outcome = _("their card is printed for the health post instead (fallback to print).")
    elif then == "google_wallet":
        outcome = _("they get a Google Wallet pass instead (fallback).")
    else:
        outcome = _("they will not receive it: add a print or Google Wallet fallback, or correct the numbers in "
                    "DHIS2.")
    figures["then"] = then or "nothing"
    reason = ngettext("%(n)s without a number this channel reaches, %(out)s opted out: %(outcome)s",
                      "%(n)s without a number this channel reaches, %(out)s opted out: %(outcome)s", missing) % {
        "n": missing, "out": s.opted_out, "outcome": outcome}
    return Item("contacts", WARNING, title, reason, figures)


def _known_absent_item(program: Program, channels: list[str], qs) -> Item | None:
    """Numbers Meta said are not on WhatsApp (``reachability``): where their cards go."""
    if channels[0] != "whatsapp":
        return None
    from .contact_models import Contact

    since = timezone.now() - timedelta(days=settings.NOT_ON_WHATSAPP_DAYS)
    n = Contact.objects.filter(account=engine.account_key("whatsapp", program), not_on_whatsapp_at__gte=since,
                               phone__in=qs.exclude(phone="").values("phone")).count()
    if not n:
        return None
    title = _("Known not to be on WhatsApp")
    if len(channels) > 1:
        return Item("not_on_whatsapp", OK, title, ngettext(
            "%(n)s number is known not to be on WhatsApp: its card goes straight to %(channel)s.",
            "%(n)s numbers are known not to be on WhatsApp: their cards go straight to %(channel)s.", n) % {
            "n": n, "channel": _name(channels[1])}, {"numbers": n, "then": channels[1]})
    return Item("not_on_whatsapp", WARNING, title, ngettext(
        "%(n)s number is known not to be on WhatsApp: add SMS or print after WhatsApp, or it will probably not "
        "receive its card.",
        "%(n)s numbers are known not to be on WhatsApp: add SMS or print after WhatsApp, or they will probably "
        "not receive their cards.", n) % {"n": n}, {"numbers": n, "then": "nothing"})


def _duration(seconds: float) -> str:
    """The same words as the dashboard's ETA (``_eta.html``): seconds, then minutes, then hours."""
    if seconds < 60:
        n = int(seconds)
        return ngettext("%(n)s second", "%(n)s seconds", n) % {"n": n}
    if seconds < 7200:
        n = round(seconds / 60)
        return ngettext("about %(n)s minute", "about %(n)s minutes", n) % {"n": n}
    n = round(seconds / 3600)
    return ngettext("about %(n)s hour", "about %(n)s hours", n) % {"n": n}


def _eta_item(s: summaries.Summary) -> Item:
    title = _("Duration")
    eta = s.eta
    if eta is None or eta.seconds is None:
        return Item("eta", WARNING, title, _("Unknown: the first channel is not configured."))
    figures = {"seconds": eta.seconds, "reasons": eta.reasons,
               "finish_at": eta.finish_at.isoformat() if eta.finish_at else None}
    text = _duration(eta.seconds)
    notes = []
    if "quiet_hours" in eta.reasons:
        notes.append(_("it waits for the end of quiet hours"))
    if "daily_messaging_limit" in eta.reasons:
        notes.append(_("the WhatsApp daily messaging limit spreads it over several days"))
    if "scheduled" in eta.reasons:
        notes.append(_("after the scheduled start"))
    reason = text + (" — " + "; ".join(notes) if notes else "")
    level = WARNING if {"quiet_hours", "daily_messaging_limit"} & set(eta.reasons) else OK
    return Item("eta", level, title, reason, figures)


def _cost_items(program: Program, s: summaries.Summary, messages: int) -> list[Item]:
    """WhatsApp: utility messages priced per country with the rate card in force today."""
    if "whatsapp" not in s.channels or s.channels[0] != "whatsapp":
        return []
    from .costs import Pricer

    title = _("Estimated cost on WhatsApp")
    pricer = Pricer(program.organisation_id, "whatsapp")
    today = timezone.now().date()
    card = pricer.card_on(today)
    if card is None:
        return [Item("cost:whatsapp", WARNING, title, _(
            "No rate card: the cost cannot be estimated. Enter your contract's prices in Integrations > Rate "
            "cards."), {"messages": messages})]
    country = program.default_country or ""
    _card, price = pricer.price(today, country, "utility")
    if price is None:
        return [Item("cost:whatsapp", WARNING, title, _("The rate card has no utility price for %(country)s.")
                     % {"country": country or "—"}, {"messages": messages, "currency": card.currency})]
    amount = (price * messages).quantize(Decimal("0.01"))
    return [Item("cost:whatsapp", OK, title, _("About %(amount)s %(currency)s for %(n)s utility messages at "
                                               "%(price)s each (rate card from %(day)s).") % {
        "amount": amount, "currency": card.currency, "n": messages, "price": price, "day": card.valid_from},
        {"messages": messages, "currency": card.currency, "unit_price": str(price), "amount": str(amount)})]


def _households_item(program: Program, channels: list[str], qs, options: dict) -> tuple[Item | None, object]:
    if channels[0] not in households.BUNDLED_CHANNELS:
        return None, None
    bundled = households.bundling(program, channels[0], options)
    h = households.summary(qs, bundled)
    figures = {"distinct_phones": h.distinct_phones, "shared_phones": h.shared_phones, "messages": h.messages,
               "saved": h.saved, "flagged": h.flagged, "bundling": bundled}
    title = _("Shared phones")
    if h.flagged:
        return Item("households", WARNING, title, ngettext(
            "%(n)s phone holds more than %(limit)s cards: check it is not a health worker's number typed for "
            "everyone.", "%(n)s phones hold more than %(limit)s cards each: check they are not health workers' "
            "numbers typed for everyone.", h.flagged) % {"n": h.flagged, "limit": households.REVIEW_ABOVE},
            figures), h
    if bundled and h.saved:
        return Item("households", OK, title, ngettext(
            "%(n)s message saved: phones shared by several beneficiaries get one message with all their cards.",
            "%(n)s messages saved: phones shared by several beneficiaries get one message with all their cards.",
            h.saved) % {"n": h.saved}, figures), h
    return Item("households", OK, title, _("%(n)s messages, one per card.") % {"n": h.messages}, figures), h


def check(scope, program: Program, channels: list[str], selection: dict, message: str = "",
          scheduled_at: datetime | None = None, options: dict | None = None) -> Check:
    """Everything an officer (or an integrator) must know before launching this bulk send."""
    options = options or {}
    items = channel_items(program, channels)
    template = template_item(program, channels)
    media = media_item(program, channels)
    s = summaries.summarise(scope, program, selection, channels, message or "", scheduled_at)
    qs = engine.selection_queryset(scope, program, selection, channels[0])
    household, h = _households_item(program, channels, qs, options)
    messages = h.messages if h is not None and h.bundling else s.sendable
    items = [_selection_item(s), *items, *([template] if template else []), *([media] if media else []),
             *([b] if (b := balance_item(s)) else []), _eta_item(s),
             *_cost_items(program, s, min(messages, s.sendable)), _contacts_item(s),
             *([k] if (k := _known_absent_item(program, channels, qs)) else []),
             *([household] if household else [])]
    return Check(items=items, summary=s, households=h)


def enforce(program: Program, channels: list[str]) -> None:
    """What ``create_distribution`` refuses besides its own checks: an SMS send whose every country's bundle
    is empty (the channel and template items raise their own errors there)."""
    if not channels or channels[0] != "sms":
        return
    from .pauses import check_balances

    try:
        left = check_balances(program.organisation_id, program.pk)
    except Exception:  # an unreadable balance is a warning in the check, never a refusal
        return
    if left and all(units == 0 for units in left.values()):
        raise Invalid("check_blocking", "Every country's SMS bundle is empty: nothing could be sent. Top the "
                      "bundles up with Orange first.", {"items": ["sms_balance"]})
