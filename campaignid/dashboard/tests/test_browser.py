"""The dashboard in a real browser (Playwright driving Debian's chromium) against a live server, the
provider sandboxes and a real queue worker: log in, send one card from the Distribution tab, run a bulk
send of 210 beneficiaries and watch it finish, filter the logs and download the CSV, switch to English;
every page readable without JavaScript and without serious or critical axe-core violations.

Screenshots land in ``test-artifacts/screenshots/``."""

from __future__ import annotations

import csv
import io
import os
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from campaignid.channels.models import ChannelConfig
from campaignid.distribution.models import Batch, Delivery
from campaignid.distribution.service import send_card
from campaignid.programs.access import Scope
from campaignid.programs.models import Membership
from campaignid.sandbox.testing import control

from . import browser_support as support

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the tests skip (or fail under CI) in the fixture, with the reason
    PlaywrightTimeout = TimeoutError

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Browser-2026"
BULK = 210
OTHERS = 6  # beneficiaries outside the bulk selection: no phone, opted out, another district
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def chromium():
    support.require_browser()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are plain sync code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=support.CHROMIUM, headless=True, args=support.CHROMIUM_ARGS)
    yield browser
    browser.close()
    pw.stop()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def world(sandbox_settings, live_server, settings, make_org, make_beneficiary, django_user_model):
    """An organisation with one programme of 216 beneficiaries, an administrator, and the sandbox posting
    WhatsApp statuses back to the live server."""
    settings.CAMPAIGNID_PUBLIC_URL = live_server.url
    org, program = make_org("sante-sn", "DKR-VAC", options={"quiet_hours": None})
    people = [make_beneficiary(program, first_name=f"Awa{i}", last_name="Diop", phone=f"+2217760{i:05d}",
                               enrollment_id=f"DKR{i:04d}", org_unit="DiszpKrYNg8", org_unit_name="Dakar Centre")
              for i in range(BULK)]
    make_beneficiary(program, enrollment_id="NOPHONE1", phone="", org_unit="DiszpKrYNg8")
    make_beneficiary(program, enrollment_id="OPTOUT01", opted_out=True, org_unit="DiszpKrYNg8")
    for i in range(OTHERS - 2):
        make_beneficiary(program, enrollment_id=f"THIES{i:03d}", phone=f"+2217761{i:05d}", org_unit="ThiesUnit01")
    user = django_user_model.objects.create_user("fatou.admin", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role=Membership.ADMIN)
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": 200})
    control(sandbox_settings, "/orange/config", {"rate_limit": 0})
    control(sandbox_settings, "/graph/config", {"webhook_url": live_server.url + "/webhooks/whatsapp"})
    control(sandbox_settings, "/latency", {"graph": 0.03})  # a bulk send that lasts long enough to watch
    return {"org": org, "program": program, "people": people, "url": live_server.url, "user": user,
            "sandbox": sandbox_settings.url}


@pytest.fixture
def page(chromium, world):
    context = chromium.new_context(viewport=DESKTOP, locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def _login(page, url: str) -> None:
    page.goto(url + "/login/")
    page.fill("#id_username", "fatou.admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn")
    page.wait_for_selector("h1:has-text('Vue d')")


def _send(scope, enrollment_id: str, channel: str) -> Delivery:
    """``send_card`` runs its own event loop: call it from a thread of its own, not Playwright's."""

    def run():
        try:
            return send_card(scope, enrollment_id, channel, actor="test")
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def test_officer_sends_one_card_from_the_distribution_tab(page, world):
    url, b = world["url"], world["people"][0]
    _login(page, url)
    support.screenshot(page, "01-overview-empty")
    page.click("nav.main >> text=Bénéficiaires")
    page.fill("#b-q", b.enrollment_id)
    page.click("form[role=search] button")
    page.click(f"a[href='/beneficiaries/{b.pk}/']")
    assert page.input_value("#send-phone") == b.phone  # pre-filled from the mapped attribute
    page.check("input[name=channel][value=sms]")  # htmx reloads the form with the SMS template
    page.wait_for_selector("#sms-count")
    page.fill("#send-message", "Bonjour {first_name}, votre carte {card_code} est prête : {verification_url}")
    page.wait_for_selector("#preview >> text=Bonjour Awa0, votre carte")
    assert "GSM-7" in page.inner_text("#sms-count")
    page.fill("#send-message", "Bonjour {first_name} « {programme_name} » {verification_url}")
    page.wait_for_selector("#preview >> text=Programme DKR-VAC")
    assert "«" not in page.inner_text("#preview")  # GSM-7 only by default: « » rewritten, 1 unit per 160
    assert "GSM-7" in page.inner_text("#sms-count")
    support.screenshot(page, "02-distribution-tab-preview")
    page.click("#send-button")
    page.wait_for_selector(".messages >> text=Carte envoyée")
    assert Delivery.objects.get(beneficiary=b).status == "sent"
    assert "+22177***0000" in page.inner_text("#history-h + .scroll")
    support.screenshot(page, "03-distribution-tab-sent")
    page.check("input[name=channel][value=google_wallet]")
    page.wait_for_selector("#send-form button:has-text('Google Wallet')")
    page.click("#send-button")
    link = page.input_value("#wallet-url")
    assert "/google/gp/v/save/" in link
    support.screenshot(page, "04-google-wallet-link")
    page.click("nav.main >> text=Boîte de réception du bac à sable")
    page.wait_for_selector(".phone.sms >> text=Bonjour Awa0")
    support.screenshot(page, "05-sandbox-inbox")
    page.set_viewport_size(PHONE)
    page.goto(f"{url}/beneficiaries/{b.pk}/")
    support.screenshot(page, "06-phone-distribution-tab")


def test_bulk_send_of_210_beneficiaries_finishes_live(page, world, tmp_path):
    url = world["url"]
    worker = support.start_worker(world["sandbox"], url, tmp_path)
    try:
        _login(page, url)
        page.goto(url + "/beneficiaries/?org_unit=DiszpKrYNg8")
        support.screenshot(page, "07-beneficiaries")
        page.click("button[name=all]")
        page.select_option("#bulk-channel", "whatsapp")
        page.select_option("#bulk-fallback", "sms")
        support.screenshot(page, "08-bulk-form")
        page.click("form[action='/distribution/review/'] button[type=submit]")
        assert page.inner_text("#sum-selected") == str(BULK + 2)
        assert page.inner_text("#sum-opted-out") == "1" and page.inner_text("#sum-no-phone") == "1"
        assert page.inner_text("#sum-sendable") == str(BULK)
        support.screenshot(page, "09-bulk-review")
        page.click("form[action='/distribution/start/'] button[type=submit]")
        page.wait_for_selector("#batch-bar")
        support.screenshot(page, "10-batch-queued")
        try:  # the bar as it moves, when a poll lands while sending (it may finish between two polls)
            page.wait_for_selector("#batch-progress .st-running", timeout=15_000)
            support.screenshot(page, "10-batch-running")
        except PlaywrightTimeout:
            pass
        # htmx polls every 3 s; the page itself is never reloaded.
        page.wait_for_selector("#batch-progress .st-completed", timeout=150_000)
        support.screenshot(page, "11-batch-completed")
    finally:
        support.stop(worker)
    batch = Batch.objects.get(channels=["whatsapp", "sms"])
    statuses = list(Delivery.objects.filter(batch=batch).values_list("status", flat=True))
    assert len([s for s in statuses if s != "failed"]) == BULK and "pending" not in statuses
    shown = {s: int(page.inner_text(f"#count-{s}")) for s in ("pending", "sent", "delivered", "read", "failed")}
    assert shown["pending"] == 0 and sum(shown.values()) == len(statuses)
    page.goto(url + "/?days=7&channel=whatsapp")
    assert "opted_out" not in page.inner_text("#failures-h + figure + table")  # not sent, not a failure
    assert int(page.inner_text("#funnel-not-sent")) >= 1
    support.screenshot(page, "12-overview-after-bulk")


def test_logs_filter_and_csv_download_then_english(page, world):
    url, program, people = world["url"], world["program"], world["people"]
    scope = Scope(world["org"])
    for b in people[:3]:
        _send(scope, b.enrollment_id, "sms")
    _send(scope, people[3].enrollment_id, "whatsapp")
    _login(page, url)
    page.goto(url + "/distribution/logs/")
    page.select_option("#f-channel", "sms")
    page.select_option("#f-programme", program.dhis2_program_uid)
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    page.wait_for_url("**channel=sms**")
    page.wait_for_selector("table.list tbody tr")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 3 and "Awa" not in page.inner_text("table.list")
    support.screenshot(page, "12-logs-filtered")
    with page.expect_download() as info:
        page.click("#export-csv")
    body = open(info.value.path(), encoding="utf-8").read()
    lines = list(csv.DictReader(io.StringIO(body)))
    assert len(lines) == 3 and {r["channel"] for r in lines} == {"sms"}
    assert all(re.fullmatch(r"\+22177\*\*\*\d{4}", r["recipient"]) for r in lines)
    page.click("table.list tbody tr >> nth=0 >> a:has-text('Événements')")
    page.wait_for_selector("#events-h")
    support.screenshot(page, "13-delivery-events")
    page.select_option("#lang-switch", "en")
    page.click("#lang-switch + button")
    page.wait_for_selector("html[lang=en]")
    assert page.inner_text("h1").startswith("Delivery")
    page.goto(url + "/distribution/logs/?channel=sms")
    assert page.inner_text("h1") == "Delivery logs" and page.is_visible("text=Export CSV")
    support.screenshot(page, "14-logs-english")
    page.goto(url + "/")
    support.screenshot(page, "15-overview-english")


def _every_page(world) -> list[tuple[str, str]]:
    """Each dashboard page, with data on it: a sent card, a wallet link, a batch, an alert."""
    from campaignid.distribution.models import Alert

    org, program, people = world["org"], world["program"], world["people"]
    scope = Scope(org)
    d = _send(scope, people[0].enrollment_id, "sms")
    _send(scope, people[1].enrollment_id, "whatsapp")
    batch = Batch.objects.create(organisation=org, program=program, channels=["whatsapp", "sms"], total=2, sent=1,
                                 delivered=1, state=Batch.State.COMPLETED, created_by="fatou.admin")
    Delivery.objects.filter(pk=d.pk).update(batch=batch)
    Alert.objects.create(organisation=org, channel="whatsapp", code="131048", category="account_restricted",
                         message="Spam rate limit hit: the number is restricted.")
    return [
        ("overview", "/"), ("beneficiaries", "/beneficiaries/"),
        ("distribution-tab", f"/beneficiaries/{people[0].pk}/"),
        ("bulk-form", "/distribution/new/?all=1&org_unit=DiszpKrYNg8"), ("distribution", "/distribution/"),
        ("batch", f"/distribution/batches/{batch.pk}/"), ("logs", "/distribution/logs/"),
        ("delivery", f"/distribution/logs/{d.pk}/"), ("integrations", "/settings/integrations/"),
        ("tokens", "/settings/tokens/"), ("sandbox-inbox", "/sandbox/inbox/"),
    ]


def test_every_page_is_readable_without_javascript(chromium, world):
    pages = _every_page(world)
    context = chromium.new_context(viewport=DESKTOP, java_script_enabled=False, locale="fr-FR")
    page = context.new_page()
    try:
        _login(page, world["url"])
        for name, path in pages:
            resp = page.goto(world["url"] + path)
            assert resp.status == 200, (path, resp.status)
            assert page.inner_text("h1").strip(), path
        # The bulk form, its summary and the Distribution tab's preview all work by plain form posts.
        page.goto(world["url"] + "/distribution/new/?all=1&org_unit=DiszpKrYNg8")
        page.click("form[action='/distribution/review/'] button[type=submit]")
        assert page.inner_text("#sum-sendable") == str(BULK)
        support.screenshot(page, "16-nojs-bulk-review")
        page.goto(world["url"] + pages[2][1])
        page.fill("#send-message", "Essai sans JavaScript {first_name}")
        page.click("#preview-button")
        # WhatsApp outside the 24 h window: the preview says the custom text would not reach the phone
        assert page.is_visible("#wa-text-lost") and "Essai sans JavaScript Awa0" not in page.inner_text("#preview")
        support.screenshot(page, "17-nojs-preview")
    finally:
        context.close()


def test_every_page_has_no_serious_accessibility_violation(chromium, world):
    pages = _every_page(world)
    found = {}
    for viewport, suffix in ((DESKTOP, ""), (PHONE, "-phone")):
        context = support.with_axe(chromium.new_context(viewport=viewport, locale="fr-FR"))
        page = context.new_page()
        try:
            page.goto(world["url"] + "/login/")
            support.screenshot(page, "page-login" + suffix)
            bad = [v for v in support.axe_violations(page) if v["impact"] in ("serious", "critical")]
            if bad:
                found["login" + suffix] = bad
            _login(page, world["url"])
            for name, path in pages:
                page.goto(world["url"] + path)
                support.screenshot(page, f"page-{name}{suffix}")
                bad = [v for v in support.axe_violations(page) if v["impact"] in ("serious", "critical")]
                if bad:
                    found[name + suffix] = bad
        finally:
            context.close()
    assert not found, found
