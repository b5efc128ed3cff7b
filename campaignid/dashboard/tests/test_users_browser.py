"""Users page and health-worker hand-over in a real browser: an administrator invites a health worker of one
health post (org unit picked by name), the worker opens the one-time link, sets a password, signs in, lands
on the hand-over page, and a card of another health post is refused while their own is recorded. Both pages
at laptop and phone sizes, in French and English, no wider than the screen, no serious axe violation."""

from __future__ import annotations

import pytest

from campaignid.distribution.models import Delivery
from campaignid.distribution.service import create_distribution
from campaignid.programs.access import Scope
from campaignid.programs.models import Membership

from . import browser_support as support
from .test_print_browser import _browser, _close, _in_thread

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-Users-2026-long"
SIZES = {"laptop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def world(live_server, settings, make_org, make_beneficiary, django_user_model, tmp_path, monkeypatch):
    monkeypatch.setenv("PRINT_SPOOL_DIR", str(tmp_path / "spool"))
    settings.CAMPAIGNID_PUBLIC_URL = live_server.url
    org, program = make_org("sante-cm", "MRA-VAC", options={"quiet_hours": None})
    for i, (uid, name) in enumerate([("OuMaroua001", "CSI Maroua"), ("OuMokolo001", "CSI Mokolo")]):
        make_beneficiary(program, phone="", enrollment_id=f"MRA{i:03d}", org_unit=uid, org_unit_name=name,
                         attributes={"org_unit_path": f"/ExtremeNord/{uid}"})
    admin = django_user_model.objects.create_user("admin.cm", password=PASSWORD)
    Membership.objects.create(user=admin, organisation=org, role=Membership.ADMIN)
    settings.HUEY.immediate = True
    try:
        batch = _in_thread(lambda: create_distribution(
            Scope(org), programme=program.dhis2_program_uid, channels=["print"], selection={}, message=None,
            scheduled_at=None, options={}, actor="test"))
    finally:
        settings.HUEY.immediate = False
    printed = Delivery.objects.filter(batch=batch).select_related("card", "beneficiary")
    cards = {d.beneficiary.org_unit: d for d in printed}
    return {"url": live_server.url, "program": program, "cards": cards}


def _login(page, url: str, username: str, password: str) -> None:
    page.goto(url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].btn")
    page.wait_for_selector("h1")


def _no_wider(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def _shoot(browser, url: str, user: tuple[str, str], path: str, name: str) -> None:
    """Screenshots of ``path`` at both sizes in both languages, each no wider than its screen."""
    for lang in ("fr", "en"):
        for size, viewport in SIZES.items():
            context = support.with_axe(browser.new_context(viewport=viewport, locale="fr-FR"))
            context.add_cookies([{"name": "django_language", "value": lang, "url": url}])
            page = context.new_page()
            _login(page, url, *user)
            page.goto(url + path)
            _no_wider(page, viewport["width"])
            page.screenshot(path=str(support.SCREENSHOTS / f"{name}-{lang}-{size}.png"), full_page=True)
            if size == "phone":
                bad = [v["id"] for v in support.axe_violations(page) if v["impact"] in ("serious", "critical")]
                assert bad == [], (name, lang, bad)
            context.close()


def test_an_invited_health_worker_sets_a_password_and_hands_over_only_their_post(world):
    url = world["url"]
    pw, browser = _browser()
    try:
        context = browser.new_context(viewport=SIZES["laptop"], locale="fr-FR")
        page = context.new_page()
        page.set_default_timeout(20_000)
        _login(page, url, "admin.cm", PASSWORD)
        page.goto(url + "/settings/users/")
        page.fill("#invite-username", "agent.maroua")
        page.select_option("#invite-role", "health_worker")
        page.select_option("#invite-units", label="CSI Maroua")
        page.click("form:has(#invite-username) button[type=submit]")
        link = page.inner_text("#member-link")
        assert "/set-password/" in link
        page.reload()
        assert page.locator("#member-link").count() == 0  # shown once
        worker = browser.new_context(viewport=SIZES["phone"], locale="fr-FR").new_page()
        worker.set_default_timeout(20_000)
        worker.goto(link)
        worker.fill("#id_new_password1", PASSWORD)
        worker.fill("#id_new_password2", PASSWORD)
        worker.click("button[type=submit].btn")
        worker.wait_for_selector(".messages li:has-text('Votre mot de passe est enregistré')")
        _login(worker, url, "agent.maroua", PASSWORD)
        assert worker.url.endswith("/handover/") and "CSI Maroua" in worker.inner_text("#my-units")
        other, own = world["cards"]["OuMokolo001"], world["cards"]["OuMaroua001"]
        worker.fill("#code", other.card.code)
        worker.click("#scan-form button[type=submit]")
        worker.wait_for_selector(".messages li.error:has-text('hors de vos unités')")
        worker.fill("#code", own.card.code)
        worker.click("#scan-form button[type=submit]")
        worker.wait_for_selector(f".messages li:has-text('{own.card.code}')")
        own.refresh_from_db()
        other.refresh_from_db()
        assert own.status == "delivered" and other.status == "sent"
        worker.goto(url + "/beneficiaries/")
        assert worker.locator("h1").inner_text() != "Bénéficiaires"
        _shoot(browser, url, ("admin.cm", PASSWORD), "/settings/users/", "users")
        _shoot(browser, url, ("agent.maroua", PASSWORD), "/handover/", "handover-health-worker")
    finally:
        _close(pw, browser)
