"""Hand-over in a real browser: a health worker opens /handover/ on a phone-sized screen and scans a
printed card, first from a photo (file input), then with the camera (Chromium's fake camera playing the
printed card); the delivery becomes "handed over" in the logs and the CSV. The card image is cut from the
PDF sheet the print channel wrote, rendered at 200 dpi."""

from __future__ import annotations

import csv
import io
import os
from concurrent.futures import ThreadPoolExecutor

import pypdfium2 as pdfium
import pytest
from django.db import connection

from campaignid.channels.print.layout import CARD_H, CARD_W, LAYOUTS
from campaignid.distribution import printing
from campaignid.distribution.models import Delivery
from campaignid.distribution.service import create_distribution
from campaignid.programs.access import Scope
from campaignid.programs.models import Membership

from . import browser_support as support

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-Handover-2026"
PHONE = {"width": 390, "height": 844}
DPI = 200
_saved_env: list[str | None] = []


def _in_thread(fn):
    """The engine runs its own event loop: call it from a thread of its own, not Playwright's."""

    def run():
        try:
            return fn()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def card_image(sheet, index: int, out) -> None:
    """The ``index``-th card of the sheet's first card page, as a photo-like PNG with a white border."""
    pdf = pdfium.PdfDocument(str(sheet))
    try:
        page = pdf[1]  # page 0 is the cover
        image = page.render(scale=DPI / 72).to_pil()
        page.close()
    finally:
        pdf.close()
    a4, k = LAYOUTS["a4"], DPI / 72
    x, y = a4.slot(index)
    top = (a4.page[1] - y - CARD_H) * k
    margin = 20
    image.crop((int(x * k) - margin, int(top) - margin, int((x + CARD_W) * k) + margin,
                int(top + CARD_H * k) + margin)).save(out)


def y4m(png, out) -> None:
    """A one-frame Y4M video of the image (what Chromium's fake camera plays in a loop)."""
    from PIL import Image

    image = Image.open(png).convert("YCbCr")
    w, h = (image.width // 2) * 2, (image.height // 2) * 2
    image = image.crop((0, 0, w, h))
    y, cb, cr = image.split()
    with open(out, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F5:1 Ip A1:1 C420jpeg\n".encode())
        f.write(b"FRAME\n" + y.tobytes() + cb.resize((w // 2, h // 2)).tobytes()
                + cr.resize((w // 2, h // 2)).tobytes())


@pytest.fixture
def world(live_server, settings, make_org, make_beneficiary, django_user_model, tmp_path, monkeypatch):
    monkeypatch.setenv("PRINT_SPOOL_DIR", str(tmp_path / "spool"))
    settings.CAMPAIGNID_PUBLIC_URL = live_server.url
    org, program = make_org("sante-cm", "MRA-VAC", options={"quiet_hours": None})
    for i in range(4):
        make_beneficiary(program, first_name=f"Hawa{i}", last_name="Bello", phone="", enrollment_id=f"MRA{i:03d}",
                         org_unit="OuMaroua001", org_unit_name="CSI Maroua", attributes={"household": f"H{i // 2}"})
    user = django_user_model.objects.create_user("agent.maroua", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role=Membership.PROGRAMME_USER)
    settings.HUEY.immediate = True
    try:
        batch = _in_thread(lambda: create_distribution(
            Scope(org), programme=program.dhis2_program_uid, channels=["print"], selection={}, message=None,
            scheduled_at=None, options={}, actor="test"))
    finally:
        settings.HUEY.immediate = False
    (_name, sheet), = printing.sheet_files(Scope(org), batch.pk)
    ordered = sorted(Delivery.objects.filter(batch=batch).select_related("card", "beneficiary"),  # sheet order
                     key=lambda d: (d.beneficiary.attributes["household"], d.beneficiary.first_name))
    return {"url": live_server.url, "batch": batch, "sheet": sheet, "deliveries": ordered, "dir": tmp_path}


def _browser(args=()):
    support.require_browser()
    from playwright.sync_api import sync_playwright

    _saved_env.append(os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE"))
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=support.CHROMIUM, headless=True,
                                 args=support.CHROMIUM_ARGS + list(args))
    return pw, browser


def _login(page, url: str) -> None:
    page.goto(url + "/login/")
    page.fill("#id_username", "agent.maroua")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn")
    page.wait_for_selector("h1")


def _session(args, world, permissions=()):
    pw, browser = _browser(args)
    context = browser.new_context(viewport=PHONE, locale="fr-FR", permissions=list(permissions))
    page = context.new_page()
    page.set_default_timeout(20_000)
    _login(page, world["url"])
    page.goto(world["url"] + "/handover/")
    return pw, browser, page


def _close(pw, browser):
    browser.close()
    pw.stop()
    previous = _saved_env.pop()  # another module's browser fixture may have set it: leave it as it was
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def test_a_photo_of_a_printed_card_marks_it_handed_over_in_logs_and_csv(world):
    target = world["deliveries"][1]
    photo = world["dir"] / "card.png"
    card_image(world["sheet"], 1, photo)
    pw, browser, page = _session((), world)
    try:
        page.set_input_files("#scan-image", str(photo))
        page.wait_for_selector(f".messages li:has-text('{target.card.code}')")
        assert "remise" in page.inner_text(".messages")
        target.refresh_from_db()
        assert target.status == "delivered"
        assert target.events.get(kind="status", status="delivered").details["handover"] == "scan"
        assert Delivery.objects.filter(batch=world["batch"], status="delivered").count() == 1
        page.goto(world["url"] + "/distribution/logs/")
        assert page.locator("span.status:has-text('remise')").count() == 1
        export = page.get_attribute("#export-csv", "href")
        csv_text = page.evaluate("async (u) => (await fetch(u)).text()", export)
        rows = list(csv.DictReader(io.StringIO(csv_text)))
        assert sorted(r["channel_status"] for r in rows) == ["handed_over", "printed", "printed", "printed"]
        page.goto(world["url"] + "/handover/")
        page.screenshot(path=str(support.SCREENSHOTS / "handover-photo.png"))
        audit = browser.new_context(viewport=PHONE, locale="fr-FR", bypass_csp=True)  # axe is injected inline
        axe_page = audit.new_page()
        _login(axe_page, world["url"])
        axe_page.goto(world["url"] + "/handover/")
        bad = [v["id"] for v in support.axe_violations(axe_page) if v["impact"] in ("serious", "critical")]
        assert bad == []
    finally:
        _close(pw, browser)


def test_the_camera_reads_a_printed_card_and_records_the_hand_over(world):
    target = world["deliveries"][0]
    photo, video = world["dir"] / "card0.png", world["dir"] / "card0.y4m"
    card_image(world["sheet"], 0, photo)
    y4m(photo, video)
    args = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}")
    pw, browser, page = _session(args, world, permissions=["camera"])
    try:
        page.click("#start-camera")
        page.wait_for_selector(f".messages li:has-text('{target.card.code}')")
        target.refresh_from_db()
        assert target.status == "delivered"
        assert target.events.get(kind="status", status="delivered").details["handover"] == "scan"
    finally:
        _close(pw, browser)


def test_hand_overs_typed_without_network_are_kept_and_sent_when_back_online(world):
    first, second = world["deliveries"][2], world["deliveries"][3]
    pw, browser, page = _session((), world)
    try:
        page.context.set_offline(True)
        for d in (first, second):
            page.fill("#code", d.card.code)
            page.click("#scan-form button[type=submit]")
        page.wait_for_selector("#scan-status:has-text('Pas de réseau : 2 remises')")
        assert Delivery.objects.filter(batch=world["batch"], status="delivered").count() == 0
        page.context.set_offline(False)
        page.wait_for_function("() => !window.localStorage.getItem('campaignid.handover.queue') || "
                               "window.localStorage.getItem('campaignid.handover.queue') === '[]'")
        page.wait_for_load_state()
        for d in (first, second):
            d.refresh_from_db()
            assert d.status == "delivered"
    finally:
        _close(pw, browser)
