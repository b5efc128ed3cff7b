"""One PDF for the cards of a household (shared phone): one page per card, sent as a WhatsApp document.

Each page carries a heading with the beneficiary's name and the card drawn exactly as on a print sheet
(``channels.print.sheets.draw_card``: programme band and colour, name, code, dates, QR of the card's token).
Pages are A6 portrait so that a phone shows one card per screen; QR codes are 1-pixel-per-module images and
text is vector, so ten cards stay far under Meta's document limit (100 MB) — a few tens of kB.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib.colors import HexColor, black
from reportlab.pdfgen.canvas import Canvas

from campaignid.channels.base import CardView
from campaignid.channels.print.layout import CARD_H, CARD_W, MM
from campaignid.channels.print.sheets import draw_card, fit

PAGE = (105 * MM, 148 * MM)  # A6 portrait
MARGIN = (PAGE[0] - CARD_W) / 2
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


class _Item:
    """What ``draw_card`` reads of a print item."""

    __slots__ = ("card", "language", "org_unit_name", "household")

    def __init__(self, card: CardView, language: str, org_unit_name: str, household: str) -> None:
        self.card, self.language, self.org_unit_name, self.household = card, language, org_unit_name, household


def _view(card) -> CardView:
    if isinstance(card, CardView):
        return card
    from campaignid.distribution.compose import card_of  # cards must not import the engine at load time

    return card_of(card)


def _household_of(card) -> str:
    b = getattr(card, "beneficiary", None)
    return str((getattr(b, "attributes", None) or {}).get("household") or "")


def _org_unit_name(card) -> str:
    return str(getattr(getattr(card, "beneficiary", None), "org_unit_name", "") or "")


def household_filename(household_code: str, *, lang: str = "fr") -> str:
    """The document's file name as the recipient sees it: no names, only the household code."""
    code = _SAFE.sub("-", household_code or "").strip("-")[:40] or "foyer"
    return f"{'cards' if lang == 'en' else 'cartes'}-{code}.pdf"


def render_household_pdf(cards: Sequence, *, lang: str, household: str = "") -> bytes:
    """Render the cards (stored ``Card`` objects of one programme, or ``CardView``) as one PDF, one page each."""
    if not cards:
        raise ValueError("a household PDF needs at least one card")
    out = io.BytesIO()
    c = Canvas(out, pagesize=PAGE, pageCompression=1, invariant=1)
    c.setTitle("CampaignID")
    total = len(cards)
    with translation.override(lang):
        for n, card in enumerate(cards, 1):
            view = _view(card)
            code = household or _household_of(card)
            w, h = PAGE
            try:
                colour = HexColor(view.primary_colour)
            except ValueError:
                colour = HexColor("#0B5F56")
            c.setFillColor(colour)
            c.setFont("Helvetica-Bold", 11)
            c.drawString(MARGIN, h - 14 * MM, fit(c, view.programme_name, "Helvetica-Bold", 11, CARD_W))
            c.setFillColor(black)
            c.setFont("Helvetica", 8)
            c.drawString(MARGIN, h - 20 * MM, _("Health card %(n)d of %(total)d") % {"n": n, "total": total})
            c.setFont("Helvetica-Bold", 14)
            c.drawString(MARGIN, h - 29 * MM, fit(c, view.display_name, "Helvetica-Bold", 14, CARD_W))
            card_y = h - 36 * MM - CARD_H
            c.setLineWidth(0.5)
            c.roundRect(MARGIN, card_y, CARD_W, CARD_H, 2 * MM, stroke=1, fill=0)
            draw_card(c, MARGIN, card_y, _Item(view, lang, _org_unit_name(card), code))
            c.setFont("Helvetica", 7.5)
            lines = [_("Show this card at the health post."),
                     _("Each person has their own card and QR code."),
                     _("Card code: %(code)s") % {"code": view.code}]
            for i, line in enumerate(lines):
                c.drawString(MARGIN, card_y - (8 + 5 * i) * MM, fit(c, line, "Helvetica", 7.5, CARD_W))
            c.showPage()
        c.save()
    return out.getvalue()
