"""Households: one message per shared phone carrying every card it holds, through the sandboxes over TCP.

The programme below has 10 beneficiaries on 7 phones (30 % of the phones shared): a family of three, a
family of two, five phones of their own."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from campaignid.channels.models import ChannelConfig
from campaignid.distribution import households
from campaignid.distribution.models import Batch, Delivery
from campaignid.distribution.service import create_distribution
from campaignid.lib.testing import eventually
from campaignid.programs.access import Scope
from campaignid.programs.models import Beneficiary, Household
from campaignid.sandbox.testing import control

pytestmark = pytest.mark.django_db(transaction=True)

FAMILY_A = "+221771110001"
FAMILY_B = "+221771110002"
PEOPLE = [("A1", "Awa", FAMILY_A), ("A2", "Moussa", "+221 77 111 00 01"), ("A3", "Fatou", FAMILY_A),
          ("B1", "Ibrahima", FAMILY_B), ("B2", "Mariama", FAMILY_B)] + [
    (f"S{i}", f"Seul{i}", f"+22177222000{i}") for i in range(5)]


@pytest.fixture
def programme(make_org, make_beneficiary):
    org, program = make_org(options={"quiet_hours": None})
    for enrollment, first, phone in PEOPLE:
        make_beneficiary(program, enrollment_id=enrollment, first_name=first, phone=households.normalise(phone))
    return org, program


def _fast(org, sandbox, channel="sms"):
    ChannelConfig.objects.create(organisation=org, channel=channel, settings={"rate_per_second": 500})
    control(sandbox, "/orange/config", {"rate_limit": 0})


def _send(org, program, channels, **options) -> Batch:
    return create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=channels, selection={},
                               message=None, scheduled_at=None, options=options, actor="test")


def _sms(sandbox) -> list[dict]:
    return [json.loads(r["body"])["outboundSMSMessageRequest"]
            for r in control(sandbox, "/requests?provider=orange", method="GET")
            if r["method"] == "POST" and r["path"].endswith("/requests") and r["status"] == 201]


def _graph(sandbox, edge: str) -> list[dict]:
    return [json.loads(r["body"]) if edge == "messages" else r
            for r in control(sandbox, "/requests?provider=graph", method="GET")
            if r["method"] == "POST" and r["path"].endswith("/" + edge)]


def _by_enrollment(batch, channel=None) -> dict[str, Delivery]:
    rows = Delivery.objects.filter(batch=batch).select_related("beneficiary")
    if channel:
        rows = rows.filter(channel=channel)
    return {d.beneficiary.enrollment_id: d for d in rows}


# --- grouping -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("phones", "chunk", "expected"), [
    (["+1", "+1", "+2"], 1000, [[0, 1], [2]]),
    (["+1", "+1", "+1", "+2", "+2"], 2, [[0, 1, 2], [3, 4]]),  # a household across two pages stays whole
    (["", "", "+3"], 1000, [[0], [1], [2]]),  # no phone: nobody to share with
    (["+4", "+4", "+4"], 1, [[0, 1, 2]]),
], ids=["shared-and-own", "across-pages", "no-phone", "page-of-one"])
def test_the_selection_is_walked_as_households_in_phone_order(make_org, make_beneficiary, phones, chunk,
                                                              expected):
    org, program = make_org()
    people = [make_beneficiary(program, phone=p) for p in phones]
    groups = list(households.walk(Beneficiary.objects.filter(program=program), chunk=chunk))
    assert sorted(sorted(people.index(b) for b in g) for g in groups) == expected


@pytest.mark.parametrize(("raw", "normalised"), [("+221 77 111 00 01", "+221771110001"),
                                                 ("00221-77-111-00-01", "+221771110001"),
                                                 ("+221.77.111.00.01", "+221771110001"), ("", "")])
def test_phones_are_grouped_once_spaces_dots_and_00_are_normalised(raw, normalised):
    assert households.normalise(raw) == normalised


def test_the_summary_counts_phones_messages_saved_and_flags_a_number_typed_for_everyone(
        programme, make_beneficiary):
    org, program = programme
    for i in range(11):  # a health worker's number typed for eleven children
        make_beneficiary(program, enrollment_id=f"HW{i}", phone="+221779999999")
    s = households.summary(Beneficiary.objects.filter(program=program))
    assert (s.beneficiaries, s.with_phone, s.distinct_phones, s.shared_phones) == (21, 21, 8, 3)
    assert (s.in_households, s.messages, s.saved, s.flagged) == (16, 8, 13, 1)
    assert s.largest[0][1] == 11 and s.largest[1][1] == 3
    assert "9999999" not in str(s.largest)  # never a full number on a page


def test_a_child_without_a_phone_joins_its_household_by_the_dhis2_household_id(
        sandbox_settings, inline_queue, programme, make_beneficiary, client):
    org, program = programme
    Beneficiary.objects.filter(program=program, enrollment_id__in=["A1", "A2", "A3"]).update(
        attributes={"household": "HH-7"})
    make_beneficiary(program, enrollment_id="A0", first_name="Bébé", phone="", attributes={"household": "HH-7"})
    make_beneficiary(program, enrollment_id="Z0", first_name="Orphelin", phone="", attributes={"household": "HH-9"})
    _fast(org, sandbox_settings)
    batch = _send(org, program, ["sms"])
    rows = _by_enrollment(batch)
    bundle = next(d for d in rows.values() if d.carries == 3)
    assert rows["A0"].carried_by_id == bundle.pk and rows["A0"].status == "sent"
    assert rows["Z0"].status == "failed" and rows["Z0"].error_category == "no_recipient"
    assert len(_sms(sandbox_settings)) == 7
    home = Household.objects.get(program=program, phone=FAMILY_A)
    assert "Bébé" in client.get(f"/h/{home.code}?k={home.key}").content.decode()


# --- SMS -----------------------------------------------------------------------------------------------
def test_a_bulk_sms_sends_one_message_per_phone_and_every_card_row_takes_its_status(
        sandbox_settings, inline_queue, programme, make_token, api_client):
    org, program = programme
    _fast(org, sandbox_settings)
    batch = _send(org, program, ["sms"])
    sent = _sms(sandbox_settings)
    assert sorted(m["address"] for m in sent) == sorted(
        f"tel:{p}" for p in {households.normalise(p) for _, _, p in PEOPLE})  # exactly one message per phone
    rows = _by_enrollment(batch)
    assert len(rows) == 10 and {d.status for d in rows.values()} == {"sent"}
    bundle_a = next(d for d in rows.values() if d.carries == 2)
    assert {d.beneficiary.enrollment_id for d in rows.values() if d.carried_by_id == bundle_a.pk} | {
        bundle_a.beneficiary.enrollment_id} == {"A1", "A2", "A3"}
    home = Household.objects.get(program=program, phone=FAMILY_A)
    text = next(m["outboundSMSTextMessage"]["message"] for m in sent if m["address"] == f"tel:{FAMILY_A}")
    assert f"/h/{home.code}?k={home.key}" in text and "3 cartes" in text
    assert "Awa" not in text and "Moussa" not in text  # names stay on the key-protected page
    for d in rows.values():
        if d.carried_by_id:
            assert d.sent_at == Delivery.objects.get(pk=d.carried_by_id).sent_at and not d.provider_message_id
    batch.refresh_from_db()
    assert (batch.total, batch.sent) == (10, 10)  # counts stay per beneficiary

    export = api_client("get", f"/api/v1/deliveries/export.csv?batch={batch.id}", make_token(org))
    table = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert sorted(r["enrollment_id"] for r in table) == sorted(e for e, _, _ in PEOPLE)  # one row per child
    assert {r["status"] for r in table} == {"sent"}
    carried = [r for r in table if r["carried_by"]]
    assert len(carried) == 3 and {r["carried_by"] for r in carried} <= {str(d.pk) for d in rows.values()}
    assert all(FAMILY_A[4:] not in line for line in map(str, table))


def test_a_rerun_sends_nothing_again_and_a_child_added_later_gets_only_its_own_card(
        sandbox_settings, inline_queue, programme, make_beneficiary):
    org, program = programme
    _fast(org, sandbox_settings)
    _send(org, program, ["sms"])
    first = len(_sms(sandbox_settings))
    again = _send(org, program, ["sms"])
    to_a = [m for m in _sms(sandbox_settings)[first:] if m["address"] == f"tel:{FAMILY_A}"]
    assert to_a == [] and not Delivery.objects.filter(batch=again, beneficiary__phone=FAMILY_A).exists()

    make_beneficiary(program, enrollment_id="A4", first_name="Khady", phone=FAMILY_A)
    before = len(_sms(sandbox_settings))
    wave = _send(org, program, ["sms"])
    new = [d for d in Delivery.objects.filter(batch=wave, beneficiary__phone=FAMILY_A).select_related("beneficiary")]
    assert [d.beneficiary.enrollment_id for d in new] == ["A4"] and new[0].carries == 0
    assert [m["address"] for m in _sms(sandbox_settings)[before:]].count(f"tel:{FAMILY_A}") == 1


def test_the_full_set_option_sends_the_whole_household_when_a_child_is_added(
        sandbox_settings, inline_queue, programme, make_beneficiary):
    org, program = programme
    program.options = {**program.options, "households_full_set": True}
    program.save()
    _fast(org, sandbox_settings)
    _send(org, program, ["sms"])
    make_beneficiary(program, enrollment_id="A4", first_name="Khady", phone=FAMILY_A)
    wave = _send(org, program, ["sms"])
    rows = Delivery.objects.filter(batch=wave, beneficiary__phone=FAMILY_A)
    assert rows.count() == 4 and rows.filter(carries=3).count() == 1 and rows.filter(status="sent").count() == 4


def test_a_beneficiary_taken_out_of_its_household_gets_its_own_message_spaced_by_the_pair_limit(
        sandbox_settings, programme):
    org, program = programme
    Beneficiary.objects.filter(program=program, enrollment_id="A3").update(household_excluded=True)
    from campaignid.distribution.engine import expand_batch

    batch = _send(org, program, ["whatsapp"])  # queue not inline: look at what is planned
    expand_batch(batch.pk)
    rows = _by_enrollment(batch)
    assert rows["A3"].carried_by_id is None and rows["A3"].carries == 0
    assert {rows["A1"].carries, rows["A2"].carries} == {0, 1}
    gap = abs(rows["A3"].next_attempt_at - (rows["A1"] if rows["A1"].carries else rows["A2"]).next_attempt_at)
    assert gap >= timedelta(seconds=households.PAIR_SPACING_SECONDS)


def test_bundling_off_sends_one_message_per_card(sandbox_settings, inline_queue, programme):
    org, program = programme
    _fast(org, sandbox_settings)
    batch = _send(org, program, ["sms"], bundle_households=False)
    assert len(_sms(sandbox_settings)) == 10 and not Delivery.objects.filter(batch=batch, carries__gt=0).exists()


# --- WhatsApp ------------------------------------------------------------------------------------------
def test_whatsapp_sends_the_household_pdf_once_per_phone_and_every_card_ends_read(
        sandbox_settings, inline_queue, programme, live_server):
    org, program = programme
    control(sandbox_settings, "/graph/config", {"webhook_url": f"{live_server.url}/webhooks/whatsapp"})
    batch = _send(org, program, ["whatsapp"])
    messages = _graph(sandbox_settings, "messages")
    assert len(messages) == 7 and len({m["to"] for m in messages}) == 7
    documents = [m for m in messages if m["template"]["name"] == "campaignid_household"]
    assert sorted(m["to"] for m in documents) == sorted(p.lstrip("+") for p in (FAMILY_A, FAMILY_B))
    header = documents[0]["template"]["components"][0]["parameters"][0]
    assert header["type"] == "document" and header["document"]["filename"].endswith(".pdf")
    assert all(m["template"]["name"] != "campaignid_household" for m in messages if m not in documents)

    def all_read() -> bool:
        return set(Delivery.objects.filter(batch=batch).values_list("status", flat=True)) == {"read"}

    assert eventually(all_read, 20), list(Delivery.objects.filter(batch=batch).values_list("carries", "status"))
    carried = Delivery.objects.filter(batch=batch, carried_by__isnull=False)
    assert carried.count() == 3 and not carried.filter(read_at__isnull=True).exists()


def test_a_household_not_on_whatsapp_falls_back_to_one_sms_for_all_its_cards(
        sandbox_settings, inline_queue, programme):
    org, program = programme
    _fast(org, sandbox_settings)
    control(sandbox_settings, "/faults", {"provider": "graph", "op": "messages", "kind": "131026", "count": 100})
    batch = _send(org, program, ["whatsapp", "sms"])
    sms = Delivery.objects.filter(batch=batch, channel="sms")
    assert sms.count() == 10 and set(sms.values_list("status", flat=True)) == {"sent"}
    assert sms.filter(carries=2).count() == 1 and sms.filter(carries=1).count() == 1
    assert len(_sms(sandbox_settings)) == 7
    assert set(Delivery.objects.filter(batch=batch, channel="whatsapp").values_list("status", flat=True)) == {
        "failed"}


def test_retrying_a_failed_household_sends_its_message_once_more(sandbox_settings, inline_queue, programme):
    org, program = programme
    _fast(org, sandbox_settings)
    control(sandbox_settings, "/faults", {"provider": "orange", "op": "send", "kind": "svc0001", "count": 7})
    batch = _send(org, program, ["sms"])
    assert set(Delivery.objects.filter(batch=batch).values_list("status", flat=True)) <= {"failed"}
    control(sandbox_settings, "/faults", {"provider": "orange"}, method="DELETE")
    from campaignid.distribution.retry import retry_failed

    before = len(_sms(sandbox_settings))
    retry_failed(Scope(org), batch.pk, actor="test")
    assert set(Delivery.objects.filter(batch=batch).values_list("status", flat=True)) == {"sent"}
    assert [m["address"] for m in _sms(sandbox_settings)[before:]].count(f"tel:{FAMILY_A}") == 1


# --- Google Wallet ---------------------------------------------------------------------------------------
def test_google_wallet_gives_a_household_one_save_link_for_every_pass(sandbox_settings, inline_queue, programme):
    org, program = programme
    batch = _send(org, program, ["google_wallet"])
    rows = Delivery.objects.filter(batch=batch)
    assert rows.count() == 10 and set(rows.values_list("status", flat=True)) == {"sent"}, list(
        rows.values_list("status", "error_code"))
    bundle = rows.get(carries=2)
    sent = bundle.events.get(kind="status", status="sent").details
    assert len(sent["objects"]) == 3  # one save link saves the three passes of family A
    codes = set(rows.filter(beneficiary__phone=FAMILY_A).values_list("card__code", flat=True))
    from campaignid.channels.google_wallet.payload import sanitise

    assert sorted(o.rsplit(".", 1)[-1] for o in sent["objects"]) == sorted(sanitise(c) for c in codes)
    singles = rows.filter(carries=0, carried_by__isnull=True)
    assert singles.count() == 5 and all("objects" not in d.events.get(kind="status", status="sent").details
                                        for d in singles)


# --- the household page --------------------------------------------------------------------------------
def test_the_household_page_lists_first_names_and_codes_of_its_cards_only_with_the_key(
        sandbox_settings, inline_queue, programme, client):
    org, program = programme
    _fast(org, sandbox_settings)
    _send(org, program, ["sms"])
    home = Household.objects.get(program=program, phone=FAMILY_A)
    page = client.get(f"/h/{home.code}?k={home.key}&lang=fr")
    html = page.content.decode()
    assert page.status_code == 200 and len(page.content) <= 60_000
    for first in ("Awa", "Moussa", "Fatou"):
        assert first in html
    assert "Diallo" not in html and "Ibrahima" not in html and FAMILY_A not in html  # no last name, no other family
    codes = set(Delivery.objects.filter(beneficiary__phone=FAMILY_A).values_list("card__code", flat=True))
    assert len(codes) == 3 and all(c in html for c in codes)
    assert "Les cartes de votre famille" in html
    assert "<h1>Your family" in client.get(f"/h/{home.code}?k={home.key}&lang=en").content.decode()
    for url in (f"/h/{home.code}", f"/h/{home.code}?k=wrong", "/h/unknown?k=x"):
        refused = client.get(url)
        assert refused.status_code == 404 and "Awa" not in refused.content.decode()
    taken_out = Beneficiary.objects.get(program=program, enrollment_id="A3")
    taken_out.household_excluded = True
    taken_out.save()
    assert "Fatou" not in client.get(f"/h/{home.code}?k={home.key}").content.decode()


def test_the_sweeper_repairs_a_carried_row_left_behind_its_bundle(sandbox_settings, inline_queue, programme):
    org, program = programme
    _fast(org, sandbox_settings)
    batch = _send(org, program, ["sms"])
    carried = Delivery.objects.filter(batch=batch, carried_by__isnull=False).first()
    Delivery.objects.filter(pk=carried.pk).update(status="pending", sent_at=None)
    Batch.objects.filter(pk=batch.pk).update(state=Batch.State.RUNNING)
    from campaignid.distribution.tasks import sweep

    sweep.call_local()
    carried.refresh_from_db()
    assert carried.status == "sent" and carried.sent_at == Delivery.objects.get(pk=carried.carried_by_id).sent_at
    batch.refresh_from_db()
    assert (batch.sent, batch.pending, batch.state) == (10, 0, "completed")
