"""Unreached lists: who is listed with which reason, the period, scoping, and the CSV and PDF of the same rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pypdfium2 as pdfium
import pytest
from django.urls import reverse
from django.utils import translation

from campaignid.distribution import unreached
from campaignid.distribution.models import Delivery
from campaignid.ops.models import AuditEvent
from campaignid.programs.access import Scope
from campaignid.programs.models import Membership

pytestmark = pytest.mark.django_db
POST, OTHER_POST = "PostAAAAAA1", "PostBBBBBB2"
MARCH = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
MAY = datetime(2026, 5, 10, 9, 0, tzinfo=UTC)


def deliver(b, channel="sms", status="sent", category="", at=MARCH, carried_by=None):
    return Delivery.objects.create(
        organisation=b.program.organisation, program=b.program, beneficiary=b, channel=channel, status=status,
        error_category=category, recipient=b.phone, created_at=at, carried_by=carried_by,
        sent_at=at if status in ("sent", "delivered", "read") else None, failed_at=at if status == "failed" else None)


# (situation, beneficiary fields, deliveries as (channel, status, category), expected reason or None = not listed)
SITUATIONS = [
    ("never sent", {}, [], "never_sent"),
    ("sent, not delivered", {}, [("whatsapp", "sent", "")], "sent_not_confirmed"),
    ("queued", {}, [("sms", "pending", "")], "waiting"),
    ("failed: not on WhatsApp", {}, [("whatsapp", "failed", "not_on_whatsapp")], "failed"),
    ("failed: quota", {}, [("sms", "failed", "quota_exhausted")], "failed"),
    ("delivered", {}, [("sms", "delivered", "")], None),
    ("read", {}, [("whatsapp", "read", "")], None),
    ("handed over in print", {"phone": ""}, [("print", "delivered", "")], None),
    ("printed, not handed over", {"phone": ""}, [("print", "sent", "")], "printed_not_handed_over"),
    ("failed then delivered on fallback", {}, [("whatsapp", "failed", "not_on_whatsapp"), ("sms", "delivered", "")],
     None),
    ("opted out", {"opted_out": True}, [], "opted_out"),
    ("skipped: opted out", {}, [("sms", "failed", "opted_out")], "opted_out"),
    ("no phone", {"phone": ""}, [], "no_phone"),
    ("skipped: no phone", {"phone": ""}, [("sms", "failed", "no_recipient")], "no_phone"),
]


@pytest.fixture
def world(make_org, make_beneficiary):
    org, program = make_org("org-a", "DKR-VAC", options={"quiet_hours": None})
    people = {}
    for n, (situation, fields, deliveries, _) in enumerate(SITUATIONS):
        b = make_beneficiary(program, org_unit=POST, org_unit_name="Poste de Santé Ndiébène",
                             last_name=f"Name{n:02d}", first_name="Aïssatou", **fields)
        for channel, status, category in deliveries:
            deliver(b, channel, status, category)
        people[situation] = b
    return org, program, people


def scope_of(org, **kw) -> Scope:
    return Scope(org, None, kw.pop("role", Membership.PROGRAMME_USER), **kw)


def reasons(scope, program, org_unit=POST, period=unreached.Period()) -> dict[str, str]:
    return {r.enrollment_id: r.reason for r in unreached.rows(unreached.unreached(scope, program, org_unit, period))}


@pytest.mark.parametrize(("situation", "expected"), [(s, e) for s, _, _, e in SITUATIONS],
                         ids=[s for s, *_ in SITUATIONS])
def test_each_situation_is_listed_with_its_reason_or_not_at_all(world, situation, expected):
    org, program, people = world
    listed = reasons(scope_of(org), program)
    assert listed.get(people[situation].enrollment_id) == expected


def test_a_failure_says_its_category_in_words(world):
    org, program, people = world
    from campaignid.dashboard.unreached_pages import label

    row = next(r for r in unreached.rows(unreached.unreached(scope_of(org), program, POST))
               if r.enrollment_id == people["failed: quota"].enrollment_id)
    with translation.override("en"):
        assert row.category == "quota_exhausted" and label(row) == "Failed: Quota or SMS bundle exhausted"


def test_household_carried_cards_follow_their_bundle(make_org, make_beneficiary):
    org, program = make_org()
    parent, reached_child = (make_beneficiary(program, org_unit=POST, phone="+221771000001") for _ in range(2))
    waiting_parent, waiting_child = (make_beneficiary(program, org_unit=POST, phone="+221771000002") for _ in range(2))
    deliver(reached_child, "whatsapp", "read", carried_by=deliver(parent, "whatsapp", "read"))
    deliver(waiting_child, "sms", "sent", carried_by=deliver(waiting_parent, "sms", "sent"))
    listed = reasons(scope_of(org), program)
    assert listed == {waiting_parent.enrollment_id: "sent_not_confirmed",
                      waiting_child.enrollment_id: "sent_not_confirmed"}


def test_the_period_counts_only_deliveries_made_in_it(make_org, make_beneficiary):
    org, program = make_org()
    delivered_in_march, delivered_in_may = (make_beneficiary(program, org_unit=POST) for _ in range(2))
    deliver(delivered_in_march, status="delivered", at=MARCH)
    deliver(delivered_in_may, status="delivered", at=MAY)
    march = unreached.Period.parse("2026-03-01", "2026-03-10")  # date_to includes its whole day
    assert reasons(scope_of(org), program, period=march) == {delivered_in_may.enrollment_id: "never_sent"}
    assert reasons(scope_of(org), program, period=unreached.Period.parse("2026-05-01", "")) == {
        delivered_in_march.enrollment_id: "never_sent"}
    assert reasons(scope_of(org), program) == {}


def test_other_health_posts_inactive_enrollments_and_other_programmes_are_not_listed(make_org, make_beneficiary):
    org, program = make_org()
    _, other_programme = make_org("org-a", "DKR-NUT", "kla3mAPgvCH")
    here = make_beneficiary(program, org_unit=POST)
    make_beneficiary(program, org_unit=OTHER_POST)
    make_beneficiary(program, org_unit=POST, active=False)
    make_beneficiary(other_programme, org_unit=POST)
    assert reasons(scope_of(org), program) == {here.enrollment_id: "never_sent"}


def test_the_health_post_picker_counts_the_unreached_of_each_post(make_org, make_beneficiary):
    org, program = make_org()
    for _ in range(3):
        make_beneficiary(program, org_unit=POST, org_unit_name="Ndiébène")
    deliver(make_beneficiary(program, org_unit=OTHER_POST, org_unit_name="Keur Massar"), status="delivered")
    assert unreached.health_posts(scope_of(org), program) == [
        {"uid": OTHER_POST, "name": "Keur Massar", "total": 1, "unreached": 0},
        {"uid": POST, "name": "Ndiébène", "total": 3, "unreached": 3}]


def test_a_district_limited_health_worker_sees_only_posts_under_their_district(make_org, make_beneficiary):
    org, program = make_org()
    mine = make_beneficiary(program, org_unit=POST, attributes={"org_unit_path": "/Region00001/District001/" + POST})
    make_beneficiary(program, org_unit=OTHER_POST, attributes={"org_unit_path": "/Region00001/District002/x"})
    worker = scope_of(org, role=Membership.HEALTH_WORKER, org_units=frozenset({"District001"}))
    assert [p["uid"] for p in unreached.health_posts(worker, program)] == [POST]
    assert reasons(worker, program) == {mine.enrollment_id: "never_sent"}
    assert reasons(worker, program, OTHER_POST) == {}


# --- pages and downloads -----------------------------------------------------------------------------------
def url(program, name="unreached", **query) -> str:
    from urllib.parse import urlencode

    return reverse(f"dashboard:{name}", args=[program.dhis2_program_uid]) + ("?" + urlencode(query) if query else "")


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client


def test_the_page_lists_names_masked_numbers_and_reasons(world, login, english):
    org, program, people = world
    client = login(org, Membership.PROGRAMME_USER)
    picker = client.get(url(program))
    assert picker.status_code == 200 and "Poste de Santé Ndiébène" in picker.content.decode()
    page = client.get(url(program, org_unit=POST)).content.decode()
    never = people["never sent"]
    assert never.enrollment_id in page and f"Name{0:02d}" in page and "Aïssatou" in page
    assert never.phone not in page and "+22177***" in page
    assert people["delivered"].enrollment_id not in page
    assert "Failed: Not on WhatsApp" in page and "Never sent" in page and "No phone" in page


def test_the_csv_has_the_same_rows_as_the_page_masked_unless_full_numbers_are_asked(world, login, english):
    org, program, people = world
    client = login(org, Membership.PROGRAMME_USER)
    listed = reasons(scope_of(org), program)
    response = client.get(url(program, "unreached_csv", org_unit=POST))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["enrollment_id"]: r["reason"] for r in table} == listed
    assert [r["last_name"] for r in table] == sorted(r["last_name"] for r in table)
    never = next(r for r in table if r["enrollment_id"] == people["never sent"].enrollment_id)
    assert never["phone"] == "+22177***" + people["never sent"].phone[-4:] and never["reason_text"] == "Never sent"
    full = client.get(url(program, "unreached_csv", org_unit=POST, phones="full"))
    assert people["never sent"].phone in b"".join(full.streaming_content).decode()
    events = AuditEvent.objects.filter(action="export").order_by("id")
    assert [e.details["filters"] for e in events] == [{"org_unit": POST}, {"org_unit": POST, "phones": "full"}]
    assert all(people["never sent"].last_name not in str(e.details) for e in events)


def pdf_text(content: bytes) -> list[str]:
    pdf = pdfium.PdfDocument(content)
    try:
        return [" ".join(pdf[i].get_textpage().get_text_range().split()) for i in range(len(pdf))]
    finally:
        pdf.close()


def test_the_pdf_lists_the_same_people_with_their_names_and_page_numbers(world, login, english):
    org, program, people = world
    client = login(org, Membership.PROGRAMME_USER)
    response = client.get(url(program, "unreached_pdf", org_unit=POST))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pages = pdf_text(b"".join(response.streaming_content))
    text = " ".join(pages)
    listed = reasons(scope_of(org), program)
    assert all(eid in text for eid in listed) and people["delivered"].enrollment_id not in text
    assert "Aïssatou" in text and "Poste de Santé Ndiébène" in text
    assert f"{len(listed)} people to visit" in text and f"page 1 / {len(pages)}" in pages[0]
    assert people["never sent"].phone not in text
    assert AuditEvent.objects.filter(action="export", target=f"uid={program.dhis2_program_uid}").count() == 1


def test_the_pdf_repeats_its_header_on_every_page(make_org, make_beneficiary, login):
    org, program = make_org()
    for n in range(60):
        make_beneficiary(program, org_unit=POST, org_unit_name="Ndiébène", last_name=f"Ndiaye{n:03d}",
                         first_name="Ɓinta")
    client = login(org)
    response = client.get(url(program, "unreached_pdf", org_unit=POST))  # French, the default
    pages = pdf_text(b"".join(response.streaming_content))
    assert len(pages) >= 2
    for n, page in enumerate(pages, 1):
        assert "Ndiébène" in page and "60" in page and f"page {n} / {len(pages)}" in page
    assert "Ɓinta" in " ".join(pages) and "Ndiaye059" in pages[-1]


def test_other_organisations_and_other_programmes_are_refused(world, make_org, login, django_user_model):
    org, program, people = world
    other_org, _ = make_org("org-b", "BBB-VAC", "ur1Edk5Oe2n")
    _, other_programme = make_org("org-a", "DKR-NUT", "kla3mAPgvCH")
    stranger = login(other_org, username="stranger")
    limited_user = django_user_model.objects.create_user("limited")
    Membership.objects.create(user=limited_user, organisation=org, role=Membership.PROGRAMME_USER).programs.set(
        [other_programme])
    for name in ("unreached", "unreached_csv", "unreached_pdf"):
        assert stranger.get(url(program, name, org_unit=POST)).status_code == 404
    stranger.force_login(limited_user)
    for name in ("unreached", "unreached_csv", "unreached_pdf"):
        assert stranger.get(url(program, name, org_unit=POST)).status_code == 404
    stranger.logout()
    for name in ("unreached", "unreached_csv", "unreached_pdf"):
        response = stranger.get(url(program, name, org_unit=POST))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_health_worker_lists_their_own_post_and_gets_nothing_from_another(world, make_beneficiary, login):
    org, program, people = world
    mine = make_beneficiary(program, org_unit=OTHER_POST, org_unit_name="Keur Massar", last_name="Sow")
    client = login(org, Membership.HEALTH_WORKER)
    Membership.objects.filter(role=Membership.HEALTH_WORKER).update(org_units=[OTHER_POST])
    for name in ("unreached", "unreached_csv", "unreached_pdf"):
        assert client.get(url(program, name, org_unit=POST)).status_code == 404
        assert client.get(url(program, name, org_unit=OTHER_POST)).status_code == 200
    picker = client.get(url(program)).content.decode()
    assert "Ndiébène" not in picker and "Keur Massar" in picker
    assert f'href="{url(program)}"' in client.get(reverse("dashboard:handover")).content.decode()
    page = client.get(url(program, org_unit=OTHER_POST)).content.decode()
    assert "Sow" in page and mine.enrollment_id in page and 'href="/beneficiaries/' not in page


def test_bad_dates_are_refused_with_the_reason(world, login, english):
    org, program, _ = world
    client = login(org)
    response = client.get(url(program, org_unit=POST, date_from="2026-13-01"))
    assert response.status_code == 422 and "Dates must look like 2026-03-31." in response.content.decode()
    assert client.get(url(program, "unreached_csv", org_unit=POST, date_from="2026-05-01",
                          date_to="2026-04-01")).status_code == 422


def test_a_pdf_of_5000_people_is_drawn_in_bounded_memory(make_org, tmp_path):
    """Rows are read in chunks and drawn as they come: the peak stays far below what 5,000 rows of model
    objects and drawn pages held at once would need (generous bound; not a timing test)."""
    import tracemalloc

    from campaignid.distribution.unreached_pdf import ListHeader, write_list
    from campaignid.programs.models import Beneficiary

    org, program = make_org()
    Beneficiary.objects.bulk_create([
        Beneficiary(program=program, enrollment_id=f"BIG{n:05d}", first_name="Mariétou", last_name=f"Ndoye{n:05d}",
                    phone=f"+2217760{n:05d}", org_unit=POST, org_unit_name="Ndiébène",
                    attributes={"household": f"HH{n // 4:04d}"}) for n in range(5000)])
    qs = unreached.unreached(scope_of(org), program, POST)
    header = ListHeader(program.name, "Ndiébène", "all dates", datetime(2026, 3, 1).date(), "fr")
    path = tmp_path / "big.pdf"
    tracemalloc.start()
    try:
        with path.open("wb") as out:
            people, pages = write_list(out, header, unreached.rows(qs), lambda r: r.reason)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert people == 5000 and pages >= 5000 // 30
    assert peak < 64 * 1024 * 1024, peak
    text = pdf_text(path.read_bytes())
    assert len(text) == pages and f"page {pages} / {pages}" in text[-1] and "Ndoye04999" in text[-1]
