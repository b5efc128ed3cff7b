"""Draw a health post's sheet with reportlab: cover page (counts, hand-over list with tick boxes and a
signature line), then the cards. Text and shapes are vector; each QR is a 1-pixel-per-module image that
the PDF scales without smoothing, so it prints sharp at any resolution.

Pages are written one after the other into the open file (``Canvas.showPage``); a sheet holds at most one
group of the engine (``PrintChannel.batch_size`` cards), so memory stays flat over any number of sheets.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import IO

import zxingcpp
from django.utils import translation
from django.utils.translation import gettext as _
from PIL import Image
from reportlab.lib.colors import HexColor, black, white
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from .layout import CARD_H, CARD_W, LAYOUTS, MM, Layout

QR_SIZE = 31 * MM  # ≈ 0.45 mm per module for a 69-module token: scans from paper with a cheap phone
BAND = 10 * MM
PAD = 3 * MM
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ROW = 7 * MM


def qr_image(text: str) -> ImageReader:
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    matrix = barcode.to_image(scale=1, add_quiet_zones=False)
    height, width = matrix.shape
    return ImageReader(Image.frombuffer("L", (width, height), matrix, "raw", "L", 0, 1))


def day(value: date | None, language: str) -> str:
    if value is None:
        return ""
    if language == "en":
        return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"
    return value.strftime("%d/%m/%Y")


def printable(text: str) -> str:
    """Helvetica prints Latin-1 (French accents included); anything else becomes '?'."""
    return "".join(ch if ord(ch) < 256 and ch.isprintable() else "?" for ch in text or "")


def fit(c: Canvas, text: str, font: str, size: float, width: float) -> str:
    text = printable(text)
    if c.stringWidth(text, font, size) <= width:
        return text
    while text and c.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def draw_card(c: Canvas, x: float, y: float, item) -> None:
    card, lang = item.card, item.language
    try:
        colour = HexColor(card.primary_colour)
    except ValueError:
        colour = HexColor("#0B5F56")
    c.setFillColor(colour)
    c.rect(x, y + CARD_H - BAND, CARD_W, BAND, stroke=0, fill=1)
    c.setFillColor(white)
    c.setFont("Helvetica-Bold", 8)
    c.drawString(x + PAD, y + CARD_H - 6.3 * MM, fit(c, card.programme_name, "Helvetica-Bold", 8, CARD_W - 2 * PAD))
    text_w = CARD_W - QR_SIZE - 3 * PAD
    c.setFillColor(black)
    c.setFont("Helvetica-Bold", 9)
    c.drawString(x + PAD, y + CARD_H - BAND - 6 * MM, fit(c, card.display_name, "Helvetica-Bold", 9, text_w))
    c.setFont("Courier-Bold", 8.5)
    c.drawString(x + PAD, y + CARD_H - BAND - 12 * MM, fit(c, card.code, "Courier-Bold", 8.5, text_w))
    c.setFont("Helvetica", 6.5)
    lines = [_("Issued %(date)s") % {"date": day(card.issued_at, lang)}]
    if card.expires_at:
        lines.append(_("Valid until %(date)s") % {"date": day(card.expires_at, lang)})
    lines += [item.org_unit_name, (_("Household %(id)s") % {"id": item.household}) if item.household else ""]
    for i, line in enumerate(lines):
        c.drawString(x + PAD, y + CARD_H - BAND - (18 + 4 * i) * MM, fit(c, line, "Helvetica", 6.5, text_w))
    qr_y = y + (CARD_H - BAND - QR_SIZE) / 2
    c.drawImage(qr_image(card.token), x + CARD_W - PAD - QR_SIZE, qr_y, QR_SIZE, QR_SIZE)


def draw_marks(c: Canvas, layout: Layout) -> None:
    c.setLineWidth(0.3)
    c.setStrokeColor(black)
    for x1, y1, x2, y2 in layout.marks():
        c.line(x1, y1, x2, y2)


def _cover_header(c: Canvas, group, items: Sequence, page: int) -> float:
    w, h = c._pagesize
    top = h - 15 * MM
    c.setFont("Helvetica-Bold", 14)
    c.drawString(15 * MM, top, fit(c, _("Cards to hand over: %(place)s") % {"place": group.org_unit_name or "—"},
                                   "Helvetica-Bold", 14, w - 30 * MM))
    c.setFont("Helvetica", 9)
    households = len({i.household for i in items if i.household})
    facts = _("%(programme)s · %(cards)d cards · %(households)d households · sheet %(sheet)s · page %(page)d") % {
        "programme": group.programme_name, "cards": len(items), "households": households, "sheet": group.sheet_id,
        "page": page}
    c.drawString(15 * MM, top - 6 * MM, fit(c, facts, "Helvetica", 9, w - 30 * MM))
    c.setFont("Helvetica-Bold", 8)
    y = top - 15 * MM
    for x, label in ((15, "#"), (25, _("Name")), (95, _("Card code")), (140, _("Household")), (175, _("Handed over"))):
        c.drawString(x * MM, y, label)
    return y - ROW


def draw_cover(c: Canvas, group, items: Sequence) -> None:
    """The hand-over list of the health post: A4 whatever the card layout (it is printed on paper)."""
    c.setPageSize(LAYOUTS["a4"].page)
    page, y = 1, _cover_header(c, group, items, 1)
    for n, item in enumerate(items, 1):
        if y < 35 * MM:
            c.showPage()
            page += 1
            y = _cover_header(c, group, items, page)
        c.setFont("Helvetica", 8)
        c.drawString(15 * MM, y, str(n))
        c.drawString(25 * MM, y, fit(c, item.card.display_name, "Helvetica", 8, 68 * MM))
        c.setFont("Courier", 8)
        c.drawString(95 * MM, y, item.card.code)
        c.setFont("Helvetica", 8)
        c.drawString(140 * MM, y, fit(c, item.household, "Helvetica", 8, 33 * MM))
        c.rect(180 * MM, y - 1 * MM, 4 * MM, 4 * MM, stroke=1, fill=0)
        y -= ROW
    c.setFont("Helvetica", 9)
    c.drawString(15 * MM, 20 * MM, _("Handed over by (name, signature, date):"))
    c.line(90 * MM, 20 * MM, 195 * MM, 20 * MM)
    c.showPage()


def write_sheet(out: IO[bytes], group, items: Sequence, layout_name: str) -> int:
    """Write the cover and the cards of one health post to ``out``; returns the number of pages."""
    layout = LAYOUTS[layout_name]
    c = Canvas(out, pagesize=layout.page, pageCompression=1, invariant=1)
    c.setTitle(f"CampaignID {group.sheet_id}")
    with translation.override(group.language):
        draw_cover(c, group, items)
        c.setPageSize(layout.page)
        for index, item in enumerate(items):
            if index and index % layout.per_page == 0:
                c.showPage()
            if index % layout.per_page == 0:
                draw_marks(c, layout)
            draw_card(c, *layout.slot(index), item)
        c.showPage()
        pages = c.getPageNumber() - 1
        c.save()
    return pages
