"""The offline verifier in a real browser (Playwright driving Debian's chromium) against a live server:
loaded once, then with the network off, it verifies card images uploaded as files (and one held in front
of chromium's fake camera): a card signed by our
Python signer is valid; a revoked one shows revoked; a list past its expiry gives "cannot confirm"; a card
from an unknown key and a tampered card are refused; revoked then reissued is right for both cards.

Screenshots (phone 390 px and laptop) land in ``test-artifacts/screenshots/``."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from campaignid.cards import service, token
from campaignid.cards.card_image import card_face
from campaignid.cards.render import render_png
from campaignid.dashboard.tests import browser_support as support
from campaignid.verification import revocations

from .fixtures_offline import people

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def chromium():
    yield from support.launch_chromium()


@pytest.fixture
def site(live_server, monkeypatch, settings):
    monkeypatch.setenv("CARD_QR_URL", f"{live_server.url}/v")
    settings.CAMPAIGNID_PUBLIC_URL = live_server.url
    return live_server.url


def open_verifier(chromium, url, viewport=PHONE):
    """A fresh browser profile that loads the verifier once online, then goes offline."""
    context = chromium.new_context(viewport=viewport, locale="fr-FR", service_workers="allow",
                                  bypass_csp=True)  # only so that axe-core can be injected
    page = context.new_page()
    page.goto(f"{url}/verify/")
    page.wait_for_selector("body[data-ready=yes]")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    context.set_offline(True)
    page.reload()  # served by the service worker from now on
    page.wait_for_selector("body[data-ready=yes]")
    assert page.evaluate("navigator.onLine") is False
    return context, page


def card_image(card) -> bytes:
    return service.card_png(card)


def image_of_text(card, text: str) -> bytes:
    """A card image whose QR holds ``text`` (a forged or altered card)."""
    from dataclasses import replace
    return render_png(replace(card_face(card), token=text))


def upload(page, png: bytes) -> str:
    page.evaluate("document.getElementById('result').removeAttribute('data-status')")
    page.set_input_files("#file", files=[{"name": "card.png", "mimeType": "image/png", "buffer": png}])
    page.wait_for_selector("#result[data-status]", timeout=15000)
    return page.get_attribute("#result", "data-status")


def test_offline_verifier_verifies_revoked_unknown_tampered_and_reissued_cards(chromium, site, program):
    *holders, person = people(program, 3)
    valid_card, revoked_card = (service.issue_card(p)[0] for p in holders)
    revoked_png = card_image(revoked_card)  # printed before it was revoked
    service.revoke_card(revoked_card)
    other_key = ec.generate_private_key(ec.SECP256R1())
    claims, _kid = token.verify(valid_card.token, service.key_ring())
    forged = token.url_form(token.sign(claims, other_key, b"12345678"), f"{site}/v")
    body = bytearray(token.body_of(valid_card.token))
    body[40] ^= 0x01  # inside the signed claims
    tampered = f"{site}/v#" + token.digits_encode(bytes(body))

    context, page = open_verifier(chromium, site)
    try:
        assert upload(page, card_image(valid_card)) == "valid"
        assert "Fàtoumata Ndèye Diallo" in page.inner_text("#result")
        assert "VALIDE" in page.inner_text("#result-word")
        support.screenshot(page, "verifier-phone-valid")
        assert upload(page, revoked_png) == "revoked"
        support.screenshot(page, "verifier-phone-revoked")
        assert upload(page, image_of_text(valid_card, forged)) == "unknown_issuer"
        assert upload(page, image_of_text(valid_card, tampered)) == "invalid"
        support.screenshot(page, "verifier-phone-invalid")
        old = service.issue_card(person)[0]
        old_png = card_image(old)
    finally:
        context.close()

    new = service.reissue_card(person, reason="lost")
    context, page = open_verifier(chromium, site, LAPTOP)  # a verifier that updated after the reissue
    try:
        assert upload(page, old_png) == "revoked"
        assert upload(page, card_image(new)) == "valid"
        support.screenshot(page, "verifier-laptop-valid")
        page.click("#language")
        assert "VALID" in page.inner_text("#result-word") and "Check a card" in page.inner_text("h1")
    finally:
        context.close()


def test_a_list_past_its_expiry_cannot_confirm_a_valid_card_but_still_shows_a_revoked_one(
        chromium, site, program, monkeypatch):
    valid_card, revoked_card = (service.issue_card(p)[0] for p in people(program, 2))
    revoked_png = card_image(revoked_card)
    service.revoke_card(revoked_card)
    monkeypatch.setattr(revocations, "LIFETIME", -60)  # the list the verifier downloads is already past expiry
    context, page = open_verifier(chromium, site)
    try:
        assert upload(page, card_image(valid_card)) == "cannot_confirm"
        assert "connectez-vous" in page.inner_text("#result")
        assert "PÉRIMÉE" in page.inner_text("#list-age")
        support.screenshot(page, "verifier-phone-cannot-confirm")
        assert upload(page, revoked_png) == "revoked"
    finally:
        context.close()


def test_the_qr_url_opens_the_verifier_offline_and_checks_the_fragment(chromium, site, program):
    import datetime as dt
    program.options = {"card_birth_year": True}
    program.save()
    person = people(program, 1)[0]
    person.date_of_birth = dt.date(1987, 6, 1)
    person.save()
    card = service.issue_card(person)[0]
    context, page = open_verifier(chromium, site)
    try:
        page.goto(service.qr_text(card))  # what a phone camera app opens
        page.wait_for_selector("#result[data-status]")
        assert page.get_attribute("#result", "data-status") == "valid"
        assert "#" not in page.url  # the token leaves the address bar
        assert "Année de naissance" in page.inner_text("#result") and "1987" in page.inner_text("#result")
        serious = [v for v in support.axe_violations(page) if v["impact"] in ("serious", "critical")]
        assert serious == []
        page.check("#log-keep")
        assert upload(page, card_image(card)) == "valid"
        with page.expect_download() as download:
            page.click("#log-export")
        rows = open(download.value.path(), encoding="utf-8").read().splitlines()
        assert rows[0] == '"time","card_code","result"' and rows[1].endswith(f'"{card.code}","valid"')
    finally:
        context.close()


def test_update_now_fetches_a_delta_and_a_card_revoked_since_shows_revoked_offline(chromium, site, program):
    first, later = (service.issue_card(p)[0] for p in people(program, 2))
    later_png = card_image(later)
    service.revoke_card(first)
    context = chromium.new_context(viewport=PHONE, locale="fr-FR", service_workers="allow")
    page = context.new_page()
    try:
        page.goto(f"{site}/verify/")
        page.wait_for_selector("body[data-ready=yes]")
        version = page.evaluate("CIDApp.state.revocations.version")
        service.revoke_card(later)
        asked = []
        page.on("request", lambda r: asked.append(r.url) if "revocations" in r.url else None)
        page.click("#update")
        page.wait_for_function("v => CIDApp.state.revocations.version > v", arg=version)
        assert any(f"since={version}" in url for url in asked)  # a delta, not the whole list again
        context.set_offline(True)
        page.reload()  # the list is rebuilt from the cached full list and the delta
        page.wait_for_selector("body[data-ready=yes]")
        assert page.evaluate("CIDApp.state.revocations.version") > version
        assert upload(page, later_png) == "revoked"
        assert upload(page, card_image(first)) == "revoked"
    finally:
        context.close()


def y4m_of(png: bytes, path) -> None:
    """A still video (YUV4MPEG2, 4:2:0) of a card image, for chromium's fake camera."""
    import io

    from PIL import Image
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.width // 2 * 2, image.height // 2 * 2
    y, u, v = image.resize((width, height)).convert("YCbCr").split()
    frame = y.tobytes() + u.resize((width // 2, height // 2)).tobytes() + v.resize((width // 2, height // 2)).tobytes()
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + b"".join(b"FRAME\n" + frame for _ in range(3)))


def test_the_camera_reads_a_card_held_in_front_of_it(chromium, site, program, tmp_path):
    card = service.issue_card(people(program, 1)[0])[0]
    video = tmp_path / "card.y4m"
    y4m_of(card_image(card), video)
    args = support.CHROMIUM_ARGS + ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                                    f"--use-file-for-fake-video-capture={video}"]
    browser = chromium.browser_type.launch(executable_path=support.CHROMIUM, headless=True, args=args)
    try:
        context = browser.new_context(viewport=PHONE, locale="fr-FR", permissions=["camera"])
        page = context.new_page()
        page.goto(f"{site}/verify/")
        page.wait_for_selector("body[data-ready=yes]")
        context.set_offline(True)
        page.click("#scan")
        page.wait_for_selector("#result[data-status]", timeout=20000)
        assert page.get_attribute("#result", "data-status") == "valid"
        assert page.is_hidden("#video")  # the camera stops once a card is read
    finally:
        browser.close()


def test_without_downloaded_keys_it_cannot_confirm_rather_than_call_a_card_forged(chromium, site, program):
    card = service.issue_card(people(program, 1)[0])[0]
    context = chromium.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    try:
        page.route("**/.well-known/**", lambda route: route.abort())  # the first download never arrives
        page.goto(f"{site}/verify/")
        page.wait_for_selector("body[data-ready=yes]")
        assert upload(page, card_image(card)) == "cannot_confirm"
        assert "connectez-vous" in page.inner_text("#result-hint")
    finally:
        context.close()
