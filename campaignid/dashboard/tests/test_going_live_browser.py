"""Going live, in a real browser at laptop and phone sizes, in French and English: an administrator adds a
DHIS2 programme, maps its attributes with a preview of the first rows, and uploads the programme's logo;
the card's public page then shows the logo with the organisation's name. No page is wider than the screen."""

from __future__ import annotations

import pytest
from PIL import Image

from campaignid.cards.service import issue_card
from campaignid.dhis2.connections import ConnectionInput, save
from campaignid.programs.models import Membership, Program
from campaignid.sandbox.testing import control

from . import browser_support as support

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-GoingLive-2026"
SIZES = {"laptop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
CHILD, TB = "IpHINAT79UW", "ur1Edk5Oe2n"
WORDS = {"fr": {"preview": "Aperçu des premières lignes", "stored": "ce qui sera enregistré",
                "save": "Enregistrer cette correspondance", "saved": "Correspondance de", "upload": "Envoyer le logo"},
         "en": {"preview": "Preview the first rows", "stored": "what will be stored", "save": "Save this mapping",
                "saved": "Mapping of", "upload": "Upload the logo"}}


@pytest.fixture
def world(live_server, settings, sandbox, make_org, make_beneficiary, django_user_model, tmp_path):
    settings.CAMPAIGNID_PUBLIC_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path / "media"
    control(sandbox, "/dhis2/config", {"version": "2.41.3"})
    org, program = make_org("minsante-sn", "DKR-VAC", uid=CHILD, options={"quiet_hours": None})
    org.name = "Ministère de la Santé et de l'Action sociale"
    org.save()
    save(org, ConnectionInput(f"{sandbox.url}/dhis2", "admin", "district"))
    user = django_user_model.objects.create_user("admin.dakar", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role=Membership.ADMIN)
    logo = tmp_path / "logo.png"
    image = Image.new("RGB", (300, 300), (11, 95, 86))
    image.paste((242, 193, 78), (60, 60, 240, 240))
    image.save(logo)
    return {"url": live_server.url, "org": org, "program": program, "logo": logo,
            "beneficiary": make_beneficiary(program)}


@pytest.fixture
def browser():
    with support.launched_chromium() as chromium:
        yield chromium


def _page(browser, world, size: str, lang: str):
    context = support.with_axe(browser.new_context(viewport=SIZES[size], locale=f"{lang}-SN"))
    context.add_cookies([{"name": "django_language", "value": lang, "url": world["url"]}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(world["url"] + "/login/")
    page.fill("#id_username", "admin.dakar")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn")
    page.wait_for_selector("h1")
    return page


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


def _shot(page, name: str) -> None:
    support.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(support.SCREENSHOTS / f"{name}.png"), full_page=True)


def _serious(page) -> list[dict]:
    return [v for v in support.axe_violations(page) if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_an_administrator_adds_a_programme_and_maps_its_attributes_with_a_preview(browser, world, size, lang):
    words, page = WORDS[lang], _page(browser, world, size, lang)
    page.goto(world["url"] + "/settings/dhis2/")
    page.fill(f"#prefix-{TB}", "DKR-TB")
    page.click(f"form.add-programme:has(#prefix-{TB}) button")
    page.wait_for_selector("#mapping")
    assert Program.objects.filter(organisation=world["org"], dhis2_program_uid=TB, code_prefix="DKR-TB").exists()
    page.goto(world["url"] + f"/settings/dhis2/?programme={CHILD}")
    page.select_option("#f_household", label="Unique ID · MMD_PER_UID")
    page.click(f"text={words['preview']}")
    page.wait_for_selector("#preview table.preview tbody tr")
    assert words["stored"] in page.inner_text("#preview")
    assert page.locator("#preview tbody tr").count() == 5
    _fits(page)
    _shot(page, f"dhis2-mapping-preview-{size}-{lang}")
    assert _serious(page) == []
    page.click(f"text={words['save']}")
    page.wait_for_selector(".messages")
    assert words["saved"] in page.inner_text(".messages")
    world["program"].refresh_from_db()
    assert world["program"].options["dhis2_mapping"]["household"]["code"] == "MMD_PER_UID"


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_the_uploaded_logo_shows_on_the_card_page_with_the_organisation(browser, world, size, lang):
    words, page = WORDS[lang], _page(browser, world, size, lang)
    page.goto(world["url"] + "/settings/programmes/")
    page.set_input_files(f"#logo-{world['program'].pk}", str(world["logo"]))
    page.click(f"text={words['upload']}")
    page.wait_for_selector("img.logo-preview")
    _fits(page)
    _shot(page, f"programme-logo-{size}-{lang}")
    card, _ = issue_card(world["beneficiary"])
    page.goto(world["url"] + f"/c/{card.code}?lang={lang}&k={card.holder_key}")
    logo = page.locator(".issuer img.logo")
    assert logo.evaluate("img => img.complete && img.naturalWidth") > 0
    assert world["org"].name in page.inner_text(".issuer")
    card_png = page.locator(".card img").evaluate("img => img.complete && img.naturalWidth")
    assert card_png == 1011
    _fits(page)
    _shot(page, f"holder-page-logo-{size}-{lang}")
    assert _serious(page) == []


def test_a_file_that_is_not_an_image_is_refused_in_the_page(browser, world, tmp_path):
    page = _page(browser, world, "phone", "fr")
    fake = tmp_path / "logo.png"
    fake.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")
    page.goto(world["url"] + "/settings/programmes/")
    page.set_input_files(f"#logo-{world['program'].pk}", str(fake))
    page.click("text=Envoyer le logo")
    page.wait_for_selector(".messages")
    assert "n'est pas une image PNG, JPEG ou WebP lisible" in page.inner_text(".messages")
    _shot(page, "programme-logo-refused-phone-fr")
    world["program"].refresh_from_db()
    assert not world["program"].logo
