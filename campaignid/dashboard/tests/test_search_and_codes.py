"""Codes and searches as people type them: a card code without dashes or in lower case on /c/ and in the
list, enrollment IDs by prefix in any case, org units by name; and /api/v1/docs without internet."""

from __future__ import annotations

import pytest

from campaignid.cards import codes
from campaignid.cards import service as cards


@pytest.mark.parametrize("typed, expected", [
    ("DKR-VAC-L1W8OBAR", "DKR-VAC-L1W8OBAR"),
    ("dkr-vac-l1w8obar", "DKR-VAC-L1W8OBAR"),
    ("dkrvacl1w8obar", "DKR-VAC-L1W8OBAR"),
    ("DKR VAC L1W8 OBAR", "DKR-VAC-L1W8OBAR"),
    ("XYZL1W8OBAR", "XYZL1W8OBAR"),  # no such prefix: left as typed (not found)
])
def test_a_code_typed_without_dashes_finds_its_programme_prefix(typed, expected):
    assert codes.with_dashes(typed, ["AAA-VAC", "DKR-VAC"]) == expected


def test_the_holder_lookup_accepts_a_code_without_dashes_in_lower_case(client, programme, make_beneficiary):
    b = make_beneficiary(programme[1])
    card, _ = cards.issue_card(b)
    resp = client.get("/c/", {"code": card.code.replace("-", "").lower()})
    assert resp.status_code == 302 and resp["Location"].startswith(f"/c/{card.code}")
    page = client.get(f"/c/{card.code.lower().replace('-', '')}")
    assert page.status_code == 302 and page["Location"].startswith(f"/c/{card.code}")


def test_the_list_finds_a_card_code_an_enrollment_prefix_and_an_org_unit_by_name(admin, programme,
                                                                                 make_beneficiary):
    _, program = programme
    awa = make_beneficiary(program, first_name="Awa", enrollment_id="ENR-AWA-01", org_unit="DiszpKrYNg8",
                           org_unit_name="Ngelehun CHC")
    other = make_beneficiary(program, first_name="Moussa", enrollment_id="ENR-MOU-02", org_unit="O6uvpzGd5pu",
                             org_unit_name="Bo")
    card, _ = cards.issue_card(awa)
    for q in (card.code.replace("-", "").lower(), "enr-awa", "awa"):
        html = admin.get("/beneficiaries/", {"q": q}).content.decode()
        assert awa.enrollment_id in html and other.enrollment_id not in html, q
    html = admin.get("/beneficiaries/", {"org_unit": "ngelehun"}).content.decode()
    assert awa.enrollment_id in html and other.enrollment_id not in html
    form = admin.get("/distribution/new/", {"all": "1", "org_unit": "ngelehun"}).content.decode()
    assert "1 bénéficiaire actif" in form


def test_api_docs_load_swagger_ui_from_our_own_static_files(client):
    html = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in html and "cdn.jsdelivr" not in html and "unpkg" not in html
    assert "/static/ninja/swagger-ui-bundle.js" in html


def test_the_logs_show_the_total_and_export_a_csv_french_excel_opens(admin, programme, make_beneficiary):
    from campaignid.distribution.models import Delivery

    org, program = programme
    for i in range(3):
        b = make_beneficiary(program, enrollment_id=f"LOG-{i}")
        Delivery.objects.create(organisation=org, program=program, beneficiary=b, channel="sms", status="sent",
                                recipient_masked="+22177***0000")
    html = admin.get("/distribution/logs/").content.decode()
    assert "3 envois correspondent à ces filtres" in html
    link = html[html.index('id="export-excel" href="') + len('id="export-excel" href="'):]
    link = link[:link.index('"')].replace("&amp;", "&")
    body = b"".join(admin.get(link).streaming_content).decode("utf-8")
    assert body.startswith("\ufeff") and body.splitlines()[0].count(";") >= 5 and "LOG-1" in body
    plain = b"".join(admin.get(link.replace("excel=true", "")).streaming_content).decode("utf-8")
    assert not plain.startswith("\ufeff") and ";" not in plain.splitlines()[0]
