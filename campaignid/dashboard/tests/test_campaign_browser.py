"""Running a campaign in a real browser (Playwright driving Debian's chromium) against a live server, the
Orange sandbox and a real queue worker: a bulk SMS send blocked by its pre-launch check (every bundle empty)
until the bundles are topped up; a send that pauses itself when the provider rejects every message, resumed
once the cause is fixed; then its failures sent again with "Retry failed". French, then English; a laptop and
a phone. Screenshots land in ``test-artifacts/screenshots/``."""

from __future__ import annotations

import os
import re

import pytest

from campaignid.channels.models import ChannelConfig
from campaignid.distribution.models import Alert, Batch, Delivery
from campaignid.lib import testing
from campaignid.programs.models import Membership
from campaignid.sandbox.testing import control

from . import browser_support as support

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Campaign-2026"
PEOPLE = 120
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}


@pytest.fixture(scope="module")
def chromium():
    support.require_browser()
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API keeps a loop in this thread
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=support.CHROMIUM, headless=True, args=support.CHROMIUM_ARGS)
    yield browser
    browser.close()
    pw.stop()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def world(sandbox_settings, live_server, settings, make_org, make_beneficiary, django_user_model):
    settings.CAMPAIGNID_PUBLIC_URL = live_server.url
    org, program = make_org("sante-ci", "ABJ-VAC", options={"quiet_hours": None})
    for i in range(PEOPLE):
        make_beneficiary(program, first_name=f"Kouadio{i}", phone=f"+22177{2000 + i:07d}",
                         enrollment_id=f"ABJ{i:04d}", org_unit="AbjNord0001", org_unit_name="Abidjan Nord")
    user = django_user_model.objects.create_user("awa.admin", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role=Membership.ADMIN)
    # 25 messages a second: a pause must land while most of the campaign is still to send
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": 25})
    control(sandbox_settings, "/orange/config", {"rate_limit": 0})
    yield {"org": org, "program": program, "url": live_server.url, "sandbox": sandbox_settings}
    control(sandbox_settings, "/faults", {"provider": "orange"}, method="DELETE")


# Elements sticking out of the viewport, outside any horizontally scrolling container (tables scroll inside).
WIDER_THAN_VIEWPORT = """() => {
  const scrolls = (p) => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX);
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right <= document.documentElement.clientWidth + 1 || r.width === 0) continue;
    let p = el.parentElement;
    while (p && !scrolls(p)) p = p.parentElement;
    if (!p) out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className} ${Math.round(r.right)}`);
  }
  return out.slice(0, 8);
}"""


def _context(chromium, viewport, locale):
    context = chromium.new_context(viewport=viewport, locale=locale)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page


def _login(page, url: str) -> None:
    page.goto(url + "/login/")
    page.fill("#id_username", "awa.admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn")
    page.wait_for_selector("nav.main")


def _review(page, url: str) -> None:
    """Select every beneficiary of the health post and ask for the review of an SMS send."""
    page.goto(url + "/beneficiaries/?org_unit=AbjNord0001")
    page.click("button[name=all]")
    page.select_option("#bulk-channel", "sms")
    page.click("form[action='/distribution/review/'] button[type=submit]")
    page.wait_for_selector("#precheck")


def _start(page):
    return page.locator("form[action='/distribution/start/'] button[type=submit]")


def _bundles(sandbox, units: int) -> None:
    for country in control(sandbox, "/orange/bundles", method="GET"):
        control(sandbox, "/orange/bundles", {"country": country, "units": units})


def test_a_bulk_send_is_blocked_by_its_check_until_the_bundles_are_topped_up(chromium, world):
    url = world["url"]
    _bundles(world["sandbox"], 0)
    for viewport, name in ((DESKTOP, "laptop"), (PHONE, "phone")):
        context, page = _context(chromium, viewport, "fr-FR")
        try:
            _login(page, url)
            _review(page, url)
            assert "ne peut pas démarrer" in page.inner_text("#check-blocked")
            balance = page.locator("li[data-code=sms_balance]")
            assert "check-blocking" in balance.get_attribute("class")
            assert "vide" in balance.inner_text()
            assert page.locator("li[data-code='channel:sms']").get_attribute("class") == "check-ok"
            assert _start(page).is_disabled()
            support.screenshot(page, f"21-check-blocked-fr-{name}")
            wide = page.evaluate(WIDER_THAN_VIEWPORT)
            assert not wide, f"the review scrolls sideways at {viewport['width']} px: {wide}"
        finally:
            context.close()
    assert not Batch.objects.exists() and not Delivery.objects.exists()  # nothing was created, nothing sent

    context, page = _context(chromium, DESKTOP, "fr-FR")
    try:
        _login(page, url)
        page.select_option("#lang-switch", "en")  # the officer switches the dashboard to English
        page.click("#lang-switch + button")
        page.wait_for_selector("html[lang=en]")
        _review(page, url)
        assert "cannot start" in page.inner_text("#check-blocked")
        assert "empty" in page.inner_text("li[data-code=sms_balance]")
        support.screenshot(page, "21-check-blocked-en-laptop")

        _bundles(world["sandbox"], 100_000)  # the officer tops the bundles up with Orange, then looks again
        _review(page, url)
        assert page.locator("#check-blocked").count() == 0
        assert page.locator("li[data-code=sms_balance]").get_attribute("class") == "check-ok"
        assert _start(page).is_enabled()
        support.screenshot(page, "22-check-ready-en-laptop")
    finally:
        context.close()


def test_a_send_pauses_itself_on_repeated_failures_then_resumes_and_its_failures_are_retried(
        chromium, world, tmp_path):
    url, sandbox = world["url"], world["sandbox"]
    _bundles(sandbox, 100_000)
    control(sandbox, "/faults", {"provider": "orange", "op": "send", "kind": "svc0001", "count": 10_000})
    worker = testing.start_worker(tmp_path, threads=2, SANDBOX_URL=sandbox.url, CAMPAIGNID_SANDBOX="true",
                                  CAMPAIGNID_PUBLIC_URL=url, BREAKER_MIN_OUTCOMES="20",
                                  BREAKER_FAILURE_SHARE_PERCENT="30")
    context, page = _context(chromium, DESKTOP, "fr-FR")
    try:
        _login(page, url)
        _review(page, url)
        _start(page).click()
        page.wait_for_selector("#paused-reason", timeout=90_000)  # htmx polls the bar every 3 s
        batch = Batch.objects.get()
        assert batch.state == Batch.State.PAUSED and "invalid_request" in batch.paused_reason
        assert "s'est mise en pause" in page.inner_text("#paused-reason")
        assert Alert.objects.filter(code="circuit_breaker", organisation=world["org"]).count() == 1
        attempted = Delivery.objects.filter(batch=batch, attempts__gt=0).count()
        assert attempted < PEOPLE * 2 // 3, f"{attempted} of {PEOPLE} tried before the pause"
        support.screenshot(page, "23-breaker-paused-fr-laptop")

        # Orange is fixed; the officer resumes: the rest goes out and no second pause comes
        control(sandbox, "/faults", {"provider": "orange"}, method="DELETE")
        page.click("form[action$='/resume/'] button")
        page.wait_for_selector("#batch-progress .st-completed", timeout=120_000)
        failed = Delivery.objects.filter(batch=batch, status="failed").count()
        assert 0 < failed <= attempted
        assert page.inner_text("#count-failed") == str(failed)
        assert page.inner_text("#retry-h").startswith(str(failed))
        support.screenshot(page, "24-completed-with-failures-fr-laptop")

        page.click("#retry-failed")  # on the same channel: a new recorded attempt of each failed delivery
        page.wait_for_selector(".messages li")
        assert re.search(rf"\b{failed}\b", page.inner_text(".messages"))
        page.wait_for_function("() => ['#count-failed', '#count-pending'].every("
                               "s => document.querySelector(s)?.textContent.trim() === '0')", timeout=120_000)
        support.screenshot(page, "25-retried-fr-laptop")
    finally:
        context.close()
        support.stop(worker)
    statuses = set(Delivery.objects.filter(batch=batch).values_list("status", flat=True))
    assert statuses <= {"sent", "delivered"}, statuses
    assert Delivery.objects.filter(batch=batch).count() == PEOPLE  # retried in place, no duplicate card
