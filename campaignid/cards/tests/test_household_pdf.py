"""The household PDF: one page per card, each page's QR scans back to that card, names and labels in fr/en."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
import zxingcpp

from campaignid.cards import service as card_service
from campaignid.cards.household_pdf import household_filename, render_household_pdf
from campaignid.cards.tests.fixtures import make_beneficiary


def pages_of(data: bytes) -> list[tuple[list[str], str]]:
    pdf = pdfium.PdfDocument(io.BytesIO(data))
    out = []
    for page in pdf:
        codes = [b.text for b in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil(),
                                                        formats=zxingcpp.BarcodeFormat.QRCode)]
        out.append((codes, page.get_textpage().get_text_range()))
    return out


@pytest.fixture
def household(program):
    people = [("Aminata", "Sow"), ("Moussa", "Sow"), ("Fatou", "Sow")]
    cards = []
    for i, (first, last) in enumerate(people):
        b = make_beneficiary(program, f"ENR-H{i}", first_name=first, last_name=last, attributes={"household": "HH-042"})
        cards.append(card_service.issue_card(b)[0])
    return cards


@pytest.mark.parametrize(("lang", "label", "footer"), [
    ("fr", "Carte de santé 2 sur 3", "Code de la carte"),
    ("en", "Health card 2 of 3", "Card code"),
])
def test_one_page_per_card_whose_qr_scans_back_to_that_card(household, lang, label, footer):
    data = render_household_pdf(household, lang=lang)
    pages = pages_of(data)
    assert len(pages) == len(household)
    for card, (codes, text) in zip(household, pages, strict=True):
        assert codes == [card.token]
        assert card.display_name in text
        assert card.code in text
        assert "HH-042" in text
    assert label in pages[1][1]
    assert footer in pages[0][1]


def test_ten_cards_stay_small_for_a_whatsapp_document(program):
    cards = [card_service.issue_card(make_beneficiary(program, f"ENR-{i}", first_name=f"Enfant {i}"))[0]
             for i in range(10)]
    data = render_household_pdf(cards, lang="fr", household="HH-1")
    assert data.startswith(b"%PDF")
    assert len(data) < 200_000  # Meta accepts 100 MB; a slow link wants far less


def test_an_empty_household_is_refused():
    with pytest.raises(ValueError):
        render_household_pdf([], lang="fr")


@pytest.mark.parametrize(("code", "lang", "name"), [
    ("HH-042", "fr", "cartes-HH-042.pdf"),
    ("HH-042", "en", "cards-HH-042.pdf"),
    ("../Mère Diallo/7", "fr", "cartes-M-re-Diallo-7.pdf"),
    ("", "fr", "cartes-foyer.pdf"),
])
def test_the_file_name_carries_only_the_household_code(code, lang, name):
    assert household_filename(code, lang=lang) == name
