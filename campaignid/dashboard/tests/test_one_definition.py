"""One definition per number: people skipped before any send (no phone, opted out) are "not sent" on the
overview, in the logs and in the API summary, never failures; SMS "will receive" excludes numbers outside
Orange's coverage; the list's "all matching" count is the bulk form's."""

from __future__ import annotations

import re

import pytest

from campaignid.distribution.models import Delivery
from campaignid.lib.mask import mask_phone


@pytest.fixture
def deliveries(programme, make_beneficiary):
    org, program = programme

    def make(status: str, category: str = "", phone: str = "+221771230000"):
        b = make_beneficiary(program, phone=phone)
        return Delivery.objects.create(organisation=org, program=program, beneficiary=b, channel="sms", status=status,
                                       recipient=phone, recipient_masked=mask_phone(phone), error_category=category)

    for _ in range(2):
        make("failed", "no_recipient", phone="")
    make("failed", "invalid_number")
    for _ in range(3):
        make("sent")
    return program


def _cell(html: str, ident: str) -> str:
    return re.search(rf'id="{ident}">([^<]*)<', html).group(1).strip()


def test_people_without_phone_are_not_sent_on_the_overview_not_failures(admin, deliveries):
    html = admin.get("/").content.decode()
    assert _cell(html, "funnel-not-sent") == "2" and _cell(html, "funnel-failed") == "1"
    assert _cell(html, "funnel-failed-rate") == "25.0 %" or _cell(html, "funnel-failed-rate") == "25,0 %"
    failures = html[html.index('id="failures-h"'):html.index('id="bychannel-h"')]
    assert "Numéro invalide" in failures and "Pas de numéro" not in failures


def test_the_logs_and_the_api_summary_say_not_sent_with_the_reason_translated(admin, deliveries, make_token,
                                                                             api_client, programme):
    html = admin.get("/distribution/logs/").content.decode()
    assert html.count('class="status s-not-sent"') == 2 and html.count('class="status s-failed"') == 1
    assert "Pas de numéro de téléphone" in html or "Pas de numéro" in html
    assert ">no_recipient<" not in html
    summary = api_client("get", "/api/v1/deliveries/summary", make_token(programme[0])).json()
    assert summary["not_sent_total"] == 2
    assert {r["error_category"] for r in summary["not_sent"]} == {"no_recipient"}


def test_an_empty_funnel_shows_no_share(admin, programme):
    html = admin.get("/").content.decode()
    assert "100 %" not in html


def test_sms_will_receive_excludes_numbers_outside_orange_coverage(sandbox_settings, admin, programme,
                                                                   make_beneficiary):
    _, program = programme
    ids = [make_beneficiary(program, phone="+221772000001").enrollment_id,
           make_beneficiary(program, phone="+33612345678").enrollment_id]
    html = admin.post("/distribution/review/", {"ids": ids, "channel": "sms"}).content.decode()
    assert _cell(html, "sum-sendable") == "1" and _cell(html, "sum-outside-sms") == "1"
    assert "Confirmer : envoyer à 1 bénéficiaire" in html


def test_the_list_button_counts_what_the_bulk_form_counts(admin, programme, make_beneficiary):
    _, program = programme
    for i in range(3):
        make_beneficiary(program, first_name="Awa")
    make_beneficiary(program, first_name="Awa", active=False)
    listing = admin.get("/beneficiaries/?q=awa").content.decode()
    button = re.search(r'name="all" value="1">([^<]*)<', listing).group(1)
    assert "3" in button and "4" not in button
    form = admin.get("/distribution/new/?all=1&q=awa").content.decode()
    assert "3 bénéficiaires actifs" in form
