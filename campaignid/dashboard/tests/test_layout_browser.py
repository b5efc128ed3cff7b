"""Every dashboard page and the public pages in a real browser, French and English: no page is wider than a
390 px phone screen (tables scroll inside their own box, the header wraps), and at laptop width (1280 px)
the logs table and the failure chart's labels are not cut. Screenshots: ``test-artifacts/screenshots/``."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from campaignid.programs.models import Membership

from . import browser_support as support
from . import realistic

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}
WIDEST = """() => {
  const over = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1
      && !e.closest('.scroll, nav.main, [hidden]') && getComputedStyle(e).position !== 'fixed');
  return {width: document.documentElement.scrollWidth, inner: innerWidth,
          culprits: over.slice(0, 4).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                                           + (e.className ? '.' + String(e.className).split(' ')[0] : ''))};
}"""
CUT = """(selector) => [...document.querySelectorAll(selector)]
  .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.trim().slice(0, 40))"""


@pytest.fixture(scope="module")
def chromium():
    yield from support.launch_chromium()


@pytest.fixture
def site(live_server, programme, make_beneficiary, django_user_model, sandbox_settings):
    org, program = programme
    world = realistic.build(program, make_beneficiary)
    user = django_user_model.objects.create_user("awa.officer")
    Membership.objects.create(user=user, organisation=org, role=Membership.ADMIN)
    client = Client()
    client.force_login(user)
    return live_server.url, client.cookies["sessionid"].value, realistic.pages(world)


def _context(chromium, url, session, viewport, lang):
    context = chromium.new_context(viewport=viewport, locale=f"{lang}-SN")
    context.add_cookies([{"name": "sessionid", "value": session, "url": url},
                         {"name": "django_language", "value": lang, "url": url}])
    return context


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")[:40] or "home"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_page_is_wider_than_a_phone(chromium, site, lang):
    url, session, paths = site
    context = _context(chromium, url, session, PHONE, lang)
    page = context.new_page()
    too_wide = {}
    for path in paths:
        page.goto(url + path + (f"?lang={lang}" if path.startswith("/c/") else ""))
        measure = page.evaluate(WIDEST)
        if measure["width"] > measure["inner"]:
            too_wide[path] = measure
        support.screenshot(page, f"layout-390-{lang}-{_slug(path)}")
    context.close()
    assert not too_wide, "\n".join(f"{p}: {m}" for p, m in too_wide.items())


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_logs_details_and_failure_chart_labels_are_not_cut_on_a_laptop(chromium, site, lang):
    url, session, _ = site
    context = _context(chromium, url, session, LAPTOP, lang)
    page = context.new_page()
    page.goto(url + "/distribution/logs/")
    support.screenshot(page, f"layout-1280-{lang}-logs")
    assert page.evaluate(CUT, ".scroll:has(table)") == [], "the logs table scrolls: a column is cut"
    page.goto(url + "/")
    support.screenshot(page, f"layout-1280-{lang}-overview")
    labels = page.evaluate(CUT, ".bars th, .bars td, .bar-label, .chart th")
    context.close()
    assert labels == []


def test_ticking_says_how_many_are_ticked_and_that_the_page_is_not_all_matching(chromium, site):
    url, session, _ = site
    context = _context(chromium, url, session, LAPTOP, "en")
    page = context.new_page()
    page.goto(url + "/beneficiaries/")
    status = page.locator("[data-ticked-count]")
    assert status.inner_text() == "Nobody ticked on this page"
    page.locator('input[name="ids"]').first.check()
    assert status.inner_text() == "1 ticked on this page"
    page.locator("#tick-all").check()
    on_page = page.locator('input[name="ids"]').count()
    total = int(page.locator(".toolbar [role=status]").first.inner_text().split()[0])
    assert status.inner_text() == f"all {on_page} on this page ticked (not the {total} matching)"
    support.screenshot(page, "layout-1280-en-beneficiaries-ticked")
    context.close()
