"""Print channel pages: the batch page shows print progress and hands out the sheets, the hand-over page
records typed codes and ticked lists, logs say "printed" / "handed over", and a lost card is reprinted."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from campaignid.distribution.models import Delivery
from campaignid.distribution.service import create_distribution
from campaignid.programs.access import Scope
from campaignid.programs.models import Membership

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def batch(programme, make_beneficiary, inline_queue, tmp_path, monkeypatch):
    monkeypatch.setenv("PRINT_SPOOL_DIR", str(tmp_path))
    org, program = programme
    for i, (ou, name) in enumerate([("OU_A", "CSI Avele"), ("OU_B", "CSI Bogo"), ("OU_A", "CSI Avele")]):
        make_beneficiary(program, org_unit=ou, org_unit_name=name, phone="", enrollment_id=f"P{i}")
    return create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["print"], selection={},
                               message=None, scheduled_at=None, options={}, actor="test")


def test_the_batch_page_shows_print_progress_and_downloads_one_pdf_per_health_post_in_a_zip(officer, batch):
    page = officer.get(f"/distribution/batches/{batch.pk}/").content.decode()
    assert "3 sur 3 cartes imprimées (100 %), 0 remises" in page and "CSI Avele" in page and "CSI Bogo" in page
    resp = officer.get(f"/distribution/batches/{batch.pk}/sheets.pdf")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(resp.streaming_content)))
    names = sorted(archive.namelist())
    assert [re.sub(r"-\d{8}-.*", "", n) for n in names] == ["CSI-Avele", "CSI-Bogo"]
    assert all(archive.read(n).startswith(b"%PDF-") for n in names)


@pytest.mark.parametrize("role", [Membership.ADMIN, Membership.PROGRAMME_USER])
def test_a_typed_code_is_handed_over_and_the_logs_say_so(programme, login, batch, role):
    client = login(programme[0], role)
    d = Delivery.objects.filter(batch=batch).select_related("card").first()
    resp = client.post("/handover/", {"code": d.card.code.lower(), "how": "code"}, follow=True)
    assert f"Carte {d.card.code} remise." in resp.content.decode()
    d.refresh_from_db()
    assert d.status == "delivered"
    again = client.post("/handover/", {"code": d.card.code}, follow=True).content.decode()
    assert "déjà été remise" in again
    logs = client.get("/distribution/logs/").content.decode()
    assert logs.count(">remise</span>") == 1 and logs.count(">imprimée</span>") == 2


def test_ticks_of_the_printed_list_are_recorded_in_bulk_and_unknown_codes_are_named(officer, batch):
    codes = list(Delivery.objects.filter(batch=batch).values_list("card__code", flat=True))
    page = officer.post("/handover/", {"codes": "\n".join(codes[:2] + ["ZZZ-NOPE"])}, follow=True).content.decode()
    assert "2 cartes remises, 0 déjà enregistrées." in page and "ZZZ-NOPE" in page
    assert Delivery.objects.filter(batch=batch, status="delivered").count() == 2


def test_another_organisation_cannot_hand_over_a_card(make_org, login, batch):
    other, _ = make_org("org-b", "OTH-VAC")
    client = login(other)
    code = Delivery.objects.filter(batch=batch).values_list("card__code", flat=True).first()
    page = client.post("/handover/", {"code": code}, follow=True).content.decode()
    assert "remise." not in page and not Delivery.objects.filter(batch=batch, status="delivered").exists()


def test_reprint_of_a_lost_card_records_a_new_printed_attempt(officer, batch):
    d = Delivery.objects.filter(batch=batch).first()
    assert "Réimprimer cette carte" in officer.get(f"/distribution/logs/{d.pk}/").content.decode()
    resp = officer.post(f"/distribution/logs/{d.pk}/reprint/", follow=True)
    copy = Delivery.objects.exclude(pk__in=Delivery.objects.filter(batch=batch, idempotency_key__startswith="b:")
                                    .values("pk")).get()
    assert copy.status == "sent" and copy.card_id == d.card_id and resp.redirect_chain[-1][0].endswith(f"/{copy.pk}/")


def test_the_batch_page_takes_the_ticks_of_its_printed_lists_in_bulk(officer, batch):
    page = officer.get(f"/distribution/batches/{batch.pk}/").content.decode()
    assert 'id="batch-ticks"' in page
    codes = list(Delivery.objects.filter(batch=batch).values_list("card__code", flat=True))
    resp = officer.post("/handover/", {"codes": "\n".join(codes), "next": f"/distribution/batches/{batch.pk}/"},
                        follow=True)
    assert resp.redirect_chain[-1][0] == f"/distribution/batches/{batch.pk}/"
    assert "3 cartes remises" in resp.content.decode() and "3 sur 3 cartes imprimées (100 %), 3 remises" in \
        resp.content.decode()


def test_a_single_send_on_the_beneficiary_page_prints_the_card_then_reprints_it(
        officer, programme, make_beneficiary, tmp_path, inline_queue, monkeypatch):
    monkeypatch.setenv("PRINT_SPOOL_DIR", str(tmp_path))
    b = make_beneficiary(programme[1], org_unit="OU_A", org_unit_name="CSI Avele", phone="")
    form = officer.get(f"/beneficiaries/{b.pk}/?channel=print").content.decode()
    assert 'value="print" checked' in form and "Imprimer la carte" in form and 'name="phone"' not in form
    page = officer.post(f"/beneficiaries/{b.pk}/send/", {"channel": "print"}, follow=True).content.decode()
    d = Delivery.objects.get(beneficiary=b)
    assert d.status == "sent" and d.channel == "print" and "Carte imprimée" in page and ">imprimée</span>" in page
    sheet = officer.get(f"/distribution/logs/{d.pk}/sheet.pdf")
    assert sheet.status_code == 200 and b"".join(sheet.streaming_content).startswith(b"%PDF-")
    again = officer.post(f"/distribution/logs/{d.pk}/reprint/", {"next": f"/beneficiaries/{b.pk}/?channel=print"},
                         follow=True)
    assert again.redirect_chain[-1][0] == f"/beneficiaries/{b.pk}/?channel=print"
    assert Delivery.objects.filter(beneficiary=b, channel="print", status="sent").count() == 2
    officer.post("/handover/", {"code": d.card.code})
    assert ">remise</span>" in officer.get(f"/beneficiaries/{b.pk}/").content.decode()


def test_another_organisation_cannot_download_a_delivery_sheet(make_org, login, batch):
    d = Delivery.objects.filter(batch=batch).first()
    client = login(make_org("org-b", "OTH-VAC")[0])
    resp = client.get(f"/distribution/logs/{d.pk}/sheet.pdf")
    assert resp.status_code == 302 and not hasattr(resp, "streaming_content")
