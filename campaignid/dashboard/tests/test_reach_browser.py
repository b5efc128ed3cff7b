"""The reach table in a real browser, on a phone (360 px) and a laptop (1280 px), in French then English: an
officer drills down from the regions to a district, then to its health posts, and follows a health post's
link to the people not reached there. The page is no wider than the screen and has no serious accessibility
violation. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import pytest

from campaignid.distribution import reach_rollup
from campaignid.distribution.tests.test_reach import DAKAR, MEDINA, PLATEAU, THIES
from campaignid.distribution.tests.test_reach import world as reach_world  # noqa: F401 - a fixture
from campaignid.programs.models import Membership

from . import browser_support as support

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-Reach-2026"
SIZES = {"phone": {"width": 360, "height": 740}, "laptop": {"width": 1280, "height": 800}}


@pytest.fixture
def world(live_server, reach_world, django_user_model):  # noqa: F811
    org, program, _ = reach_world
    reach_rollup.refresh(program)
    user = django_user_model.objects.create_user("officer.diouf", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role=Membership.PROGRAMME_USER)
    return {"url": live_server.url, "program": program}


def _login(page, url: str) -> None:
    page.goto(url + "/login/")
    page.fill("#id_username", "officer.diouf")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn")
    page.wait_for_selector("h1")


def _units(page) -> list[str]:
    return page.eval_on_selector_all("table.reach tbody tr", "rows => rows.map(r => r.dataset.orgUnit)")


def _fits(page, viewport) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    bad = [v["id"] for v in support.axe_violations(page) if v["impact"] in ("serious", "critical")]
    assert bad == [], bad


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_officer_drills_down_from_region_to_health_post_on_a_phone_and_a_laptop(world, lang):
    url, uid = world["url"], world["program"].dhis2_program_uid
    with support.launched_chromium() as browser:
        for size, viewport in SIZES.items():
            context = support.with_axe(browser.new_context(viewport=viewport, locale="fr-FR"))
            context.add_cookies([{"name": "django_language", "value": lang, "url": url}])
            page = context.new_page()
            _login(page, url)
            page.goto(f"{url}/programmes/{uid}/reach/")
            assert page.locator("html").get_attribute("lang") == lang
            assert _units(page) == [DAKAR, THIES, "unknown"]
            assert page.locator(".bar-chart, figure, svg").count() >= 1  # the chart of the level
            support.screenshot(page, f"reach-regions-{lang}-{size}")
            _fits(page, viewport)
            page.click(f"tr[data-org-unit={DAKAR}] th a")
            page.wait_for_url(f"**parent={DAKAR}**")
            assert _units(page) == [PLATEAU, "DisPikine01"]
            page.click(f"tr[data-org-unit={PLATEAU}] th a")
            page.wait_for_url(f"**parent={PLATEAU}**")
            assert _units(page) == ["PostFann001", MEDINA]
            row = page.locator(f"tr[data-org-unit={MEDINA}]")
            assert "PS Médina" in row.inner_text() and page.locator("nav.crumbs li").count() == 4
            support.screenshot(page, f"reach-posts-{lang}-{size}")
            _fits(page, viewport)
            row.locator("a.unreached-link").click()
            page.wait_for_selector("table.unreached")
            assert page.url.split("?")[1].startswith(f"org_unit={MEDINA}")
            assert page.locator("table.unreached tbody tr").count() == 2  # the third person of Médina was reached
            context.close()
