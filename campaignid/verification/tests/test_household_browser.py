"""The household page in a real browser, as a parent opens the link of the SMS on a cheap phone and on a
laptop, in French and in English: the cards of that phone only, under the page-weight budget, no
accessibility violation; then the PDF of every card, whose pages each carry a QR that scans back to that
card's token. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
import zxingcpp

from campaignid.cards import service as cards
from campaignid.dashboard.tests import browser_support as support
from campaignid.distribution import households

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1280, "height": 800}
PAGE_BUDGET = 60_000  # bytes before card images, over 2G


@pytest.fixture
def family(live_server, settings, make_org, make_beneficiary):
    settings.CAMPAIGNID_PUBLIC_URL = live_server.url
    _, program = make_org("sante-sn", "DKR-VAC", options={"quiet_hours": None})
    issued = []
    for first in ("Awa", "Moussa", "Fatou"):
        b = make_beneficiary(program, first_name=first, last_name="Ndiaye", phone="+221771110001")
        issued.append(cards.issue_card(b)[0])
    neighbour = make_beneficiary(program, first_name="Ibrahima", last_name="Fall", phone="+221771110002")
    cards.issue_card(neighbour)
    return {"url": live_server.url, "home": households.household_for(program, "+221771110001"), "cards": issued}


@pytest.mark.parametrize(("lang", "viewport", "heading"), [
    ("fr", PHONE, "Les cartes de votre famille"), ("en", PHONE, "Your family's cards"),
    ("fr", LAPTOP, "Les cartes de votre famille"), ("en", LAPTOP, "Your family's cards"),
], ids=["fr-phone", "en-phone", "fr-laptop", "en-laptop"])
def test_a_parent_opens_the_household_link_and_sees_each_card_of_that_phone(family, lang, viewport, heading):
    home = family["home"]
    with support.launched_chromium() as browser:
        context = support.with_axe(browser.new_context(viewport=viewport, locale=f"{lang}-SN"))
        page = context.new_page()
        page.goto(f"{family['url']}/h/{home.code}?k={home.key}&lang={lang}", wait_until="load")
        assert page.locator("h1").inner_text() == heading
        names = page.locator(".household strong").all_inner_texts()
        assert names == ["Awa", "Fatou", "Moussa"]  # the neighbour's child is not on this phone
        assert page.locator(".household .code").all_inner_texts() == sorted(
            (c.code for c in family["cards"]), key=lambda code: {c.code: c.beneficiary.first_name
                                                                   for c in family["cards"]}[code])
        assert "Ndiaye" not in page.content()
        weight = page.evaluate("""() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const rest = performance.getEntriesByType('resource').filter(r => r.initiatorType !== 'img');
          return nav.encodedBodySize + rest.reduce((n, r) => n + r.encodedBodySize, 0);
        }""")
        assert 0 < weight <= PAGE_BUDGET, weight
        assert page.locator("img[loading=lazy]").count() == 3
        assert support.axe_violations(page) == []
        support.screenshot(page, f"household-{lang}-{viewport['width']}")
        wrong = context.new_page()
        wrong.goto(f"{family['url']}/h/{home.code}?k=nope&lang={lang}")
        assert "Awa" not in wrong.content() and wrong.locator(".household").count() == 0
        context.close()


def test_the_household_pdf_has_one_page_per_card_whose_qr_scans_back_to_it(family, tmp_path):
    home = family["home"]
    with support.launched_chromium() as browser:
        context = browser.new_context(viewport=PHONE, locale="fr-SN", accept_downloads=True)
        page = context.new_page()
        page.goto(f"{family['url']}/h/{home.code}?k={home.key}&lang=fr")
        with page.expect_download() as download:
            page.click("text=Télécharger toutes les cartes (PDF)")
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        context.close()
    assert path.name == f"cartes-{home.code}.pdf"
    pdf = pdfium.PdfDocument(io.BytesIO(path.read_bytes()))
    tokens, texts = [], []
    for n, pdf_page in enumerate(pdf):
        image = pdf_page.render(scale=200 / 72).to_pil()
        image.save(support.SCREENSHOTS / f"household-pdf-page-{n + 1}.png")
        tokens += [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]
        texts.append(pdf_page.get_textpage().get_text_range())
    assert len(texts) == 3
    by_token = {cards.qr_text(c): c for c in family["cards"]} | {c.token: c for c in family["cards"]}
    assert len(tokens) == 3 and all(t in by_token for t in tokens)
    for text, token in zip(texts, tokens, strict=True):
        assert by_token[token].code in text.replace("\r\n", " ").replace("\n", " ") or \
            by_token[token].beneficiary.first_name in text
