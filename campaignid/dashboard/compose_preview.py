"""The message an officer is about to send, rendered with the beneficiary's real values, and its SMS cost."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from campaignid.cards import service as cards
from campaignid.channels import config as channel_config
from campaignid.channels.orange_sms import segments
from campaignid.distribution import compose, messages, service, text_plan
from campaignid.distribution.models import Delivery
from campaignid.distribution.summary import stand_in_card
from campaignid.lib.phone import normalise
from campaignid.programs.models import Beneficiary

CHANNEL_KINDS = ("whatsapp", "sms", "google_wallet", "print")


@dataclass
class Preview:
    text: str = ""
    error: str = ""
    sms: dict | None = None
    variables: dict = field(default_factory=dict)
    whatsapp: text_plan.TextPlan | None = None  # what a WhatsApp phone shows (template or text as written)
    custom: bool = False  # the text differs from the programme's own


def default_message(beneficiary: Beneficiary, channel: str) -> str:
    """The programme's template for this channel, in the programme's language."""
    return beneficiary.program.template_for("sms" if channel == "sms" else "whatsapp")


def gsm7_only(beneficiary: Beneficiary) -> bool:
    program = beneficiary.program
    try:
        return bool(channel_config.build("sms", program.organisation_id, program.pk).config.gsm7_only)
    except (channel_config.NotConfigured, AttributeError):
        return True  # the default when the SMS channel is not configured yet


def variables(beneficiary: Beneficiary, channel: str) -> tuple[dict[str, str], bool]:
    """The template variables as the send will fill them, and whether the card exists yet (before the
    first send, the card code and link are shown as placeholders)."""
    card = cards.current_card(beneficiary)
    values = compose.variables(Delivery(beneficiary=beneficiary, program=beneficiary.program, card=card,
                                        channel=channel))
    if card is None:
        values["card_code"] = _("(card code, issued when sent)")
        values["verification_url"] = _("(card link, issued when sent)")
    return values, card is not None


def whatsapp_plan(beneficiary: Beneficiary, message: str, phone: str, values: dict) -> text_plan.TextPlan | None:
    program = beneficiary.program
    try:
        channel = channel_config.build("whatsapp", program.organisation_id, program.pk)
    except channel_config.NotConfigured:
        return None
    custom = bool(service.custom_message(program, "whatsapp", message))
    recipient = normalise(phone, program.default_country) if phone else beneficiary.phone
    return text_plan.plan(channel, program, custom, recipient or "", values)


def render(beneficiary: Beneficiary, channel: str, message: str, phone: str = "") -> Preview:
    values, has_card = variables(beneficiary, channel)
    template = message or default_message(beneficiary, channel)
    try:
        text = messages.render(template, values)
    except messages.TemplateError as exc:
        return Preview(error=str(exc), variables=values)
    out = Preview(text=text, variables=values)
    if channel == "whatsapp":
        out.whatsapp = whatsapp_plan(beneficiary, message, phone, {**values, "message": text})
        out.custom = bool(service.custom_message(beneficiary.program, channel, message))
    if channel == "sms":
        gsm7 = gsm7_only(beneficiary)
        counted = text if has_card else messages.render(template, {**values, **stand_in_card(beneficiary.program)})
        out.sms = segments.describe(counted, gsm7)
        if out.sms["transliterated_text"]:
            out.text = segments.transliterate(text)
    return out
