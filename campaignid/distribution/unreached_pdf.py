"""The unreached list of one health post as an A4 PDF for home visits: a header on every page (programme,
health post, period, date, how many people), then one row per person with a "visited" tick box, name,
enrollment ID, phone, household and reason; "page x / y" at the foot of each page.

Rows are drawn as they are read (the caller passes an iterator): nothing holds the whole list. The number
of people and of pages are only known at the end, so each page draws them as PDF form XObjects that are
defined after the last row (a forward reference the PDF format allows). Text uses the bundled DejaVu fonts,
which print French accents and the letters of West African names (ɓ ɗ ŋ ƴ) that Helvetica cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import IO

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib.colors import HexColor, black
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from campaignid.cards.imaging import BOLD, FONT_DIR, REGULAR, clean_text
from campaignid.channels.print.layout import A4, MM
from campaignid.channels.print.sheets import day

from .unreached import Row

FONT, FONT_BOLD = "CampaignID-Sans", "CampaignID-Sans-Bold"
GREY = HexColor("#555555")
LEFT, RIGHT = 12 * MM, A4[0] - 12 * MM
ROW_H = 9 * MM
TOP_OF_ROWS = A4[1] - 40 * MM
BOTTOM = 20 * MM
# column x positions (mm from the left edge) and widths
BOX, NAME, ENROLLMENT, PHONE, REASON = 12, 25, 82, 111, 139
WIDTHS = {BOX: 12, NAME: 55, ENROLLMENT: 28, PHONE: 27, REASON: 59}


def _fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / REGULAR)))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / BOLD)))


@dataclass(frozen=True)
class ListHeader:
    programme: str
    health_post: str
    period: str  # already worded in the list's language
    printed_on: date
    language: str


def fit(c: Canvas, text: str, font: str, size: float, width_mm: float) -> str:
    text, width = clean_text(text), width_mm * MM
    if c.stringWidth(text, font, size) <= width:
        return text
    while text and c.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _text(c: Canvas, x_mm: float, y: float, text: str, size: float = 8.5, bold: bool = False,
          width_mm: float | None = None, colour=black) -> None:
    font = FONT_BOLD if bold else FONT
    c.setFillColor(colour)
    c.setFont(font, size)
    c.drawString(x_mm * MM, y, fit(c, text, font, size, width_mm) if width_mm else clean_text(text))


def _header(c: Canvas, h: ListHeader, page: int) -> None:
    top = A4[1] - 16 * MM
    _text(c, BOX, top, _("Home visits: %(place)s") % {"place": h.health_post}, 14, True, 186)
    facts = " · ".join(p for p in (h.programme, h.period, _("printed %(date)s") % {
        "date": day(h.printed_on, h.language)}) if p)
    _text(c, BOX, top - 6 * MM, facts, 9, width_mm=186)
    c.saveState()
    c.translate(BOX * MM, top - 12 * MM)
    c.doForm("count")  # "N people to visit", drawn once the list is complete
    c.restoreState()
    y = TOP_OF_ROWS + 4 * MM
    for x, label in ((BOX, _("Visited")), (NAME, _("Name")), (ENROLLMENT, _("Enrollment ID")),
                     (PHONE, _("Phone")), (REASON, _("Reason"))):
        _text(c, x, y, label, 7.5, True, WIDTHS[x])
    c.setLineWidth(0.6)
    c.line(LEFT, y - 2 * MM, RIGHT, y - 2 * MM)


def _footer(c: Canvas, h: ListHeader, page: int) -> None:
    y = 10 * MM
    _text(c, BOX, y, _("Personal health data: keep this list safe and destroy it after the visits."), 7,
          colour=GREY, width_mm=140)
    label = _("page %(page)d /") % {"page": page} + " "
    c.setFont(FONT, 8)
    width = c.stringWidth(label, FONT, 8)
    x = RIGHT - 14 * MM
    c.setFillColor(black)
    c.drawString(x - width, y, label)
    c.saveState()
    c.translate(x, y)
    c.doForm("pages")
    c.restoreState()


def _row(c: Canvas, y: float, r: Row, reason: str, full_phone: bool, language: str) -> None:
    c.setLineWidth(0.6)
    c.rect(BOX * MM + 1 * MM, y - 1.2 * MM, 4.5 * MM, 4.5 * MM, stroke=1, fill=0)
    _text(c, NAME, y, r.name or "—", 9, True, WIDTHS[NAME])
    if r.household:
        _text(c, NAME, y - 3.6 * MM, _("Household %(id)s") % {"id": r.household}, 7, colour=GREY,
              width_mm=WIDTHS[NAME])
    _text(c, ENROLLMENT, y, r.enrollment_id, 8.5, width_mm=WIDTHS[ENROLLMENT])
    _text(c, PHONE, y, r.phone_shown(full_phone) or "—", 8.5, width_mm=WIDTHS[PHONE])
    _text(c, REASON, y, reason, 8, width_mm=WIDTHS[REASON])
    if r.last_at:
        _text(c, REASON, y - 3.6 * MM, _("last attempt %(date)s") % {"date": day(r.last_at.date(), language)}, 7,
              colour=GREY, width_mm=WIDTHS[REASON])
    c.setLineWidth(0.2)
    c.setStrokeColor(GREY)
    c.line(LEFT, y - 5.2 * MM, RIGHT, y - 5.2 * MM)
    c.setStrokeColor(black)


def _define_forms(c: Canvas, count: int, pages: int) -> None:
    c.beginForm("count", lowery=-5 * MM)  # room for descenders below the baseline
    _text(c, 0, 0, ngettext("%(n)d person to visit", "%(n)d people to visit", count) % {"n": count}, 10, True)
    c.endForm()
    c.beginForm("pages", lowery=-5 * MM)
    c.setFont(FONT, 8)
    c.drawString(0, 0, str(pages))
    c.endForm()


def write_list(out: IO[bytes], header: ListHeader, items: Iterable[Row], label: Callable[[Row], str],
               full_phone: bool = False) -> tuple[int, int]:
    """Draw the list into ``out``; returns (people, pages). ``label`` words each row's reason."""
    _fonts()
    c = Canvas(out, pagesize=A4, pageCompression=1, invariant=1)
    c.setTitle(_("Home visits") + " · " + clean_text(header.health_post))
    count, page = 0, 1
    with translation.override(header.language):
        _header(c, header, page)
        y = TOP_OF_ROWS - 2 * MM
        for r in items:
            if y < BOTTOM:
                _footer(c, header, page)
                c.showPage()
                page += 1
                _header(c, header, page)
                y = TOP_OF_ROWS - 2 * MM
            _row(c, y, r, label(r), full_phone, header.language)
            count += 1
            y -= ROW_H
        if not count:
            _text(c, BOX, y, _("Nobody to visit: everyone at this health post was reached."), 10)
        _footer(c, header, page)
        c.showPage()
        _define_forms(c, count, page)
    c.save()
    return count, page
