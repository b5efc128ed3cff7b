"""The unreached list of a health post in a real browser, on a phone (360 px) and a laptop (1280 px), in French
then English: the health-post picker leads to the list, the page is no wider than the screen, has no serious
accessibility violation, and the PDF downloads. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import pytest

from campaignid.distribution.models import Delivery
from campaignid.programs.models import Membership

from . import browser_support as support

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-Unreached-2026"
SIZES = {"phone": {"width": 360, "height": 740}, "laptop": {"width": 1280, "height": 800}}
POST = "PostNdieb01"


@pytest.fixture
def world(live_server, make_org, make_beneficiary, django_user_model):
    org, program = make_org("sante-sn", "DKR-VAC", options={"quiet_hours": None})
    people = [("Aïssatou", "Ndiaye", "+221771230001", "sent", ""), ("Ɓinta", "Sow", "+221771230002", "failed",
                                                                    "not_on_whatsapp"),
              ("Mamadou", "Diop", "", None, ""), ("Fatou", "Fall", "+221771230004", "delivered", ""),
              ("Oumar", "Ba", "+221771230005", None, "")]
    for first, last, phone, status, category in people:
        b = make_beneficiary(program, first_name=first, last_name=last, phone=phone, org_unit=POST,
                             org_unit_name="Poste de santé de Ndiébène Gandiole", attributes={"household": "HH-12"})
        if status:
            Delivery.objects.create(organisation=org, program=program, beneficiary=b, channel="whatsapp",
                                    status=status, error_category=category, recipient=phone)
    make_beneficiary(program, org_unit="PostKeur001", org_unit_name="Keur Massar")
    user = django_user_model.objects.create_user("officer.ndiaye", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role=Membership.PROGRAMME_USER)
    return {"url": live_server.url, "program": program}


def _login(page, url: str) -> None:
    page.goto(url + "/login/")
    page.fill("#id_username", "officer.ndiaye")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn")
    page.wait_for_selector("h1")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_officer_opens_the_unreached_list_of_a_health_post_on_a_phone_and_a_laptop(world, lang, tmp_path):
    url, uid = world["url"], world["program"].dhis2_program_uid
    with support.launched_chromium() as browser:
        for size, viewport in SIZES.items():
            context = support.with_axe(browser.new_context(viewport=viewport, locale="fr-FR", accept_downloads=True))
            context.add_cookies([{"name": "django_language", "value": lang, "url": url}])
            page = context.new_page()
            _login(page, url)
            page.goto(f"{url}/programmes/{uid}/unreached/")
            assert page.locator("html").get_attribute("lang") == lang
            assert page.locator("table.posts tbody tr").count() == 2
            support.screenshot(page, f"unreached-posts-{lang}-{size}")
            page.click("text=Poste de santé de Ndiébène Gandiole")
            page.wait_for_selector("table.unreached")
            names = page.locator("table.unreached tbody td:first-child").all_inner_texts()
            assert names == ["Oumar Ba", "Mamadou Diop", "Aïssatou Ndiaye", "Ɓinta Sow"]  # Fatou was reached
            assert "+221771230001" not in page.content() and "+22177***0001" in page.content()
            support.screenshot(page, f"unreached-list-{lang}-{size}")
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            bad = [v["id"] for v in support.axe_violations(page) if v["impact"] in ("serious", "critical")]
            assert bad == [], bad
            if size == "phone":
                with page.expect_download() as download:
                    page.locator("form.downloads button").first.click()
                path = tmp_path / f"{lang}.pdf"
                download.value.save_as(path)
                assert path.read_bytes().startswith(b"%PDF")
            context.close()
