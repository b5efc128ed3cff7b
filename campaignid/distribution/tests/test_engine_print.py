"""The print channel through the delivery engine: a bulk print yields one sheet per health post, whose
every QR decodes to its card's token; hand-overs and reprints are recorded on the deliveries."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
import zxingcpp

from campaignid.distribution import logs, printing
from campaignid.distribution.models import Batch, Delivery
from campaignid.programs.access import Scope

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = [  # (org unit, org unit name, household, first name, last name)
    ("OU_B", "CSI Bogo", "H2", "Moussa", "Zra"), ("OU_A", "CSI Avele", "H9", "Awa", "Bello"),
    ("OU_A", "CSI Avele", "H1", "Zenabou", "Ousmane"), ("OU_B", "CSI Bogo", "H2", "Adama", "Abba"),
    ("OU_A", "CSI Avele", "H1", "Fadimatou", "Alim"), ("OU_B", "CSI Bogo", "H1", "Hawa", "Yaya"),
    ("OU_A", "CSI Avele", "H9", "Issa", "Bello"),
]


def decode_pdf(path) -> list[str]:
    """Every QR of every page, rendered at 300 dpi."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        found = []
        for page in pdf:
            image = page.render(scale=300 / 72).to_pil()
            found += [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]
            page.close()
        return found
    finally:
        pdf.close()


def cover_text(path) -> str:
    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[0]
        text = page.get_textpage().get_text_range()
        page.close()
        return text
    finally:
        pdf.close()


@pytest.fixture
def printed(make_org, make_beneficiary, make_token, api_client, inline_queue, tmp_path, monkeypatch):
    monkeypatch.setenv("PRINT_SPOOL_DIR", str(tmp_path))
    org, program = make_org(options={"quiet_hours": None})
    for i, (ou, name, household, first, last) in enumerate(PEOPLE):
        make_beneficiary(program, org_unit=ou, org_unit_name=name, first_name=first, last_name=last,
                         phone="" if i % 2 else f"+2217712{i:05d}", attributes={"household": household})
    resp = api_client("post", "/api/v1/distributions", make_token(org),
                      {"programme": program.dhis2_program_uid, "channel": "print"})
    assert resp.status_code == 201, resp.content
    return org, Batch.objects.get(pk=resp.json()["id"])


def test_a_bulk_print_yields_one_sheet_per_health_post_whose_every_qr_decodes_to_its_card_token(printed):
    org, batch = printed
    rows = Delivery.objects.filter(batch=batch).select_related("card", "beneficiary")
    assert rows.count() == len(PEOPLE) and set(rows.values_list("status", flat=True)) == {"sent"}
    files = dict(printing.sheet_files(Scope(org), batch.pk))
    assert len(files) == 2 and sorted(n.split("-")[:2] for n in files) == [["CSI", "Avele"], ["CSI", "Bogo"]]
    for name, path in files.items():
        ou_name = "CSI Avele" if "Avele" in name else "CSI Bogo"
        expected = sorted(d.card.token for d in rows if d.beneficiary.org_unit_name == ou_name)
        assert sorted(decode_pdf(path)) == expected
    assert printing.progress(batch) == {"total": 7, "printed": 7, "handed_over": 0, "pending": 0, "failed": 0,
                                        "percent": 100}


def test_the_hand_over_list_is_sorted_by_household_then_name_and_counts_the_cards(printed):
    org, batch = printed
    path = next(p for n, p in printing.sheet_files(Scope(org), batch.pk) if "Avele" in n)
    text = cover_text(path)
    order = [text.index(name) for name in ("Fadimatou", "Zenabou", "Awa", "Issa")]  # H1 Alim, H1 Ousmane, H9…
    assert order == sorted(order)
    assert "4 cartes" in text and "2 ménages" in text


def test_a_scanned_card_is_handed_over_once_and_the_csv_says_so(printed):
    org, batch = printed
    scope = Scope(org)
    d = Delivery.objects.filter(batch=batch).select_related("card").first()
    first, recorded = printing.hand_over(scope, d.card.token)
    again, recorded_again = printing.hand_over(scope, d.card.code, how="code")
    assert (first.status, recorded, recorded_again) == ("delivered", True, False)
    assert list(d.events.filter(kind="status").values_list("status", flat=True)) == ["sent", "delivered"]
    assert d.events.get(status="delivered").details["handover"] == "scan"
    csv_text = "".join(logs.csv_rows(Delivery.objects.filter(batch=batch)))
    header, *lines = csv_text.splitlines()
    assert header.split(",")[-2:] == ["channel_status", "carried_by"]
    assert sorted(line.split(",")[-2] for line in lines) == ["handed_over"] + ["printed"] * 6


def test_ticks_from_the_printed_list_are_entered_in_bulk(printed):
    org, batch = printed
    codes = list(Delivery.objects.filter(batch=batch).values_list("card__code", flat=True)[:3])
    result = printing.hand_over_list(Scope(org), "\n".join([codes[0], codes[1], codes[0], "XXX-0000"]))
    assert result == {"handed_over": codes[:2], "already": [], "unknown": ["XXX-0000"]}
    assert printing.progress(batch)["handed_over"] == 2


def test_a_reprint_is_a_new_recorded_attempt_on_a_new_sheet(printed):
    org, batch = printed
    original = Delivery.objects.filter(batch=batch).first()
    copy = printing.reprint(Scope(org), original.pk, actor="officer")
    copy.refresh_from_db()
    assert copy.status == "sent" and copy.provider_message_id != original.provider_message_id
    assert copy.events.get(kind="created").details["reprint_of"] == original.pk
    assert copy.card_id == original.card_id
    assert len(printing.sheet_files(Scope(org), batch.pk)) == 3


def test_whatsapp_falls_back_to_print_for_numbers_not_on_whatsapp(sandbox_settings, inline_queue, make_org,
                                                                 make_beneficiary, tmp_path, monkeypatch):
    from campaignid.distribution.service import create_distribution
    from campaignid.sandbox.testing import control

    monkeypatch.setenv("PRINT_SPOOL_DIR", str(tmp_path))
    org, program = make_org(options={"quiet_hours": None})
    mobile = make_beneficiary(program, phone="+221775550001", enrollment_id="M0", org_unit="OU_A")
    landline = make_beneficiary(program, phone="+221338220001", enrollment_id="F0", org_unit="OU_A",
                                org_unit_name="CSI Avele")
    control(sandbox_settings, "/graph/config", {"not_on_whatsapp_mode": "sync"})
    batch = create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["whatsapp", "print"],
                                selection={}, message=None, scheduled_at=None, options={}, actor="test")
    failed = Delivery.objects.get(batch=batch, beneficiary=landline, channel="whatsapp")
    printed = Delivery.objects.get(fallback_of=failed)
    assert (failed.error_category, printed.channel, printed.status) == ("not_on_whatsapp", "print", "sent")
    assert printed.card_id == failed.card_id and printed.recipient == ""
    assert not Delivery.objects.filter(batch=batch, beneficiary=mobile, channel="print").exists()
    (_name, sheet), = printing.sheet_files(Scope(org), batch.pk)
    assert decode_pdf(sheet) == [printed.card.token]
