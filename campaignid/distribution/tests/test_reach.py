"""Reach by org unit: the aggregates equal direct counts after statuses change, the period, the drill-down
sums, the row of unknown hierarchy, health workers' subtree and the DHIS2-shaped org unit tree."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import Q

from campaignid.cards.models import CardEvent
from campaignid.cards.service import issue_card
from campaignid.channels.base import StatusUpdate
from campaignid.distribution import intake, printing, reach, reach_rollup
from campaignid.distribution.models import Delivery, DeliveryEvent
from campaignid.distribution.unreached import Period
from campaignid.lib.errors import NotFound
from campaignid.programs import org_units
from campaignid.programs.access import Scope
from campaignid.programs.models import Membership, OrgUnit

pytestmark = pytest.mark.django_db
ROOT, DAKAR, THIES = "SnCountry01", "RegDakar001", "RegThies001"
PLATEAU, PIKINE, THIES_D = "DisPlateau1", "DisPikine01", "DisThies001"
MEDINA, FANN, GUINAW, NDIEYE = "PostMedina1", "PostFann001", "PostGuinaw1", "PostNdieye1"
LOST = "PostLost001"  # an org unit DHIS2 never described
MARCH = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
APRIL = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
NAMES = {ROOT: "Sénégal", DAKAR: "Dakar", THIES: "Thiès", PLATEAU: "Dakar Centre", PIKINE: "Pikine",
         THIES_D: "Thiès Nord", MEDINA: "PS Médina", FANN: "PS Fann", GUINAW: "PS Guinaw Rail", NDIEYE: "PS Ndieye"}
POSTS = {MEDINA: [ROOT, DAKAR, PLATEAU], FANN: [ROOT, DAKAR, PLATEAU], GUINAW: [ROOT, DAKAR, PIKINE],
         NDIEYE: [ROOT, THIES, THIES_D]}


def dhis2_unit(uid: str, chain: list[str]) -> dict:
    """An org unit as DHIS2 answers ``fields=id,name,level,path,parent[id],ancestors[id,name,level]``."""
    return {"id": uid, "name": NAMES[uid], "level": len(chain) + 1, "path": "/" + "/".join([*chain, uid]),
            "parent": {"id": chain[-1]}, "ancestors": [{"id": a, "name": NAMES[a], "level": i + 1}
                                                       for i, a in enumerate(chain)]}


def send(b, channel="sms", status="sent", category="", at=MARCH, pmid=""):
    return Delivery.objects.create(
        organisation=b.program.organisation, program=b.program, beneficiary=b, channel=channel, status=status,
        error_category=category, recipient=b.phone, created_at=at, provider_message_id=pmid,
        sent_at=at if status in ("sent", "delivered", "read") else None, failed_at=at if status == "failed" else None)


@pytest.fixture
def world(make_org, make_beneficiary):
    org, program = make_org("org-a", "DKR-VAC")
    org_units.save_tree(org, [dhis2_unit(uid, chain) for uid, chain in POSTS.items()])
    people = {uid: [make_beneficiary(program, org_unit=uid, org_unit_name=NAMES[uid]) for _ in range(3)]
              for uid in POSTS}
    people[LOST] = [make_beneficiary(program, org_unit=LOST, org_unit_name="Poste inconnu")]
    people[""] = [make_beneficiary(program, org_unit="", phone="")]
    for i, (uid, bs) in enumerate(people.items()):
        send(bs[0], "sms", "delivered", pmid=f"sms-{i}-a")
        send(bs[0], "whatsapp", "failed", "not_on_whatsapp")
        if len(bs) > 1:
            send(bs[1], "sms", "sent", pmid=f"sms-{i}-b", at=APRIL)
            send(bs[2], "print", "sent", pmid=f"sheet-{i}")
    send(people[MEDINA][1], "sms", "failed", "no_recipient", at=APRIL)
    return org, program, people


def scope_of(org, **kw) -> Scope:
    return Scope(org, None, kw.pop("role", Membership.PROGRAMME_USER), **kw)


def direct(program, period=Period(), units=None) -> dict[str, int]:
    """What the report must say, counted on the deliveries and beneficiaries themselves."""
    qs = Delivery.objects.filter(program=program)
    people = program.beneficiaries.filter(active=True)
    if units is not None:
        qs, people = qs.filter(beneficiary__org_unit__in=units), people.filter(org_unit__in=units)
    if period.start:
        qs = qs.filter(created_at__gte=period.start)
    if period.end:
        qs = qs.filter(created_at__lt=period.end)
    out = {k: qs.filter(q).count() for k, q in reach_rollup.STATUS_SETS.items()}
    out["beneficiaries"] = people.count()
    out["with_contact"] = people.exclude(phone="").filter(opted_out=False).count()
    scans = CardEvent.objects.filter(kind="verified", card__program=program)
    if units is not None:
        scans = scans.filter(card__beneficiary__org_unit__in=units)
    out["verified"] = scans.count()
    return out


def shown(row) -> dict[str, int]:
    return {k: row.counts[k] for k in (*reach_rollup.STATUS_SETS, "beneficiaries", "with_contact", "verified")}


def test_the_top_level_shows_regions_and_an_unknown_row_counting_everyone_else(world):
    org, program, people = world
    reach_rollup.refresh(program)
    rep = reach.report(scope_of(org), program)
    assert [(r.uid, r.name) for r in rep.rows] == [(DAKAR, "Dakar"), (THIES, "Thiès"), ("unknown", "")]
    assert rep.crumbs == [(ROOT, "Sénégal")]
    unknown = rep.rows[-1]
    assert unknown.counts["beneficiaries"] == 2 and unknown.counts["delivered"] == 2
    assert shown(rep.total) == direct(program)  # nobody dropped: the unknown row holds the rest
    below = reach.report(scope_of(org), program, parent="unknown")
    assert {(r.uid, r.name) for r in below.rows} == {(LOST, "Poste inconnu"), ("", "")}


def test_a_region_is_the_sum_of_its_districts_and_a_district_of_its_health_posts(world):
    org, program, _ = world
    reach_rollup.refresh(program)
    top = {r.uid: r for r in reach.report(scope_of(org), program).rows}
    districts = reach.report(scope_of(org), program, parent=DAKAR)
    assert [r.uid for r in districts.rows] == [PLATEAU, PIKINE]
    assert all(r.drill and not r.leaf for r in districts.rows)
    assert districts.total.counts == top[DAKAR].counts and districts.total.failures == top[DAKAR].failures
    posts = reach.report(scope_of(org), program, parent=PLATEAU)
    assert [(r.uid, r.leaf, r.drill) for r in posts.rows] == [(FANN, True, False), (MEDINA, True, False)]
    assert posts.crumbs == [(ROOT, "Sénégal"), (DAKAR, "Dakar"), (PLATEAU, "Dakar Centre")]
    plateau = {r.uid: r for r in districts.rows}[PLATEAU]
    assert posts.total.counts == plateau.counts
    assert shown(posts.total) == direct(program, units=[MEDINA, FANN])
    assert posts.total.failures == {"not_on_whatsapp": 2}
    assert {r.uid: r.counts["not_sent"] for r in posts.rows} == {MEDINA: 1, FANN: 0}


def test_the_rollup_stays_exact_as_statuses_change(world, settings):
    org, program, people = world
    reach_rollup.refresh(program)
    medina = people[MEDINA]
    # delivered → read by a provider callback; a sent SMS fails with a category; a printed card is handed over
    intake.record_updates("sms", [StatusUpdate("sms-0-a", "read", APRIL),
                                  StatusUpdate("sms-0-b", "failed", APRIL, error_category="quota_exhausted")])
    printing.record_hand_overs([Delivery.objects.get(provider_message_id="sheet-0")], "scan")
    # a late delivery created now, a moved beneficiary, a card verified online
    send(people[NDIEYE][1], "whatsapp", "read", at=MARCH)
    moved = people[FANN][0]
    moved.org_unit = NDIEYE
    moved.save()
    card, _ = issue_card(medina[0])
    from django.test import Client

    assert Client().post("/api/v1/verify", {"token": card.token}, content_type="application/json").json()[
        "status"] == "valid"
    reach_rollup.refresh(program)
    rep = reach.report(scope_of(org), program, parent=PLATEAU)
    row = {r.uid: r for r in rep.rows}
    assert row[MEDINA].counts["read"] == 1 and row[MEDINA].counts["handed_over"] == 1
    assert row[MEDINA].failures == {"not_on_whatsapp": 1, "quota_exhausted": 1}
    assert row[MEDINA].counts["verified"] == 1
    assert shown(row[MEDINA]) == direct(program, units=[MEDINA])
    assert shown(row[FANN]) == direct(program, units=[FANN])
    thies = reach.report(scope_of(org), program, parent=THIES_D).rows[0]
    assert shown(thies) == direct(program, units=[NDIEYE])
    assert shown(reach.report(scope_of(org), program).total) == direct(program)


def test_a_refresh_recomputes_only_the_id_ranges_that_changed_and_the_days_stay_exact(world, monkeypatch):
    """A campaign of a million deliveries in one day: each minute recomputes the few ranges sending touched,
    then sums the day from its ranges (here ranges of 4 ids, over two days)."""
    org, program, people = world
    monkeypatch.setattr(reach_rollup, "BUCKET", 4)
    monkeypatch.setattr(reach_rollup, "PEOPLE_OVERLAP", timedelta(0))  # the beneficiaries were saved just now
    reach_rollup.rebuild(program)
    ids = list(Delivery.objects.filter(program=program).order_by("id").values_list("id", flat=True))
    assert len({i // 4 for i in ids}) >= 5
    recomputed, real = [], reach_rollup._bucket_rows
    monkeypatch.setattr(reach_rollup, "_bucket_rows", lambda p, b: recomputed.append(b) or real(p, b))
    reach_rollup.refresh(program)  # reads the window of the rebuild again (a late commit would show here)
    recomputed.clear()
    reach_rollup.refresh(program)
    assert recomputed == []  # nothing new: nothing recomputed
    target = Delivery.objects.get(provider_message_id="sms-0-a")
    intake.record_updates("sms", [StatusUpdate("sms-0-a", "read", APRIL)])
    late = send(people[NDIEYE][1], "whatsapp", "failed", "quota_exhausted", at=APRIL)
    reach_rollup.refresh(program)
    assert set(recomputed) == {target.pk // 4, late.pk // 4}
    for uid, district in ((MEDINA, PLATEAU), (NDIEYE, THIES_D)):
        [row] = [r for r in reach.report(scope_of(org), program, parent=district).rows if r.uid == uid]
        assert shown(row) == direct(program, units=[uid])
    assert shown(reach.report(scope_of(org), program).total) == direct(program)
    for day in (MARCH.date(), APRIL.date()):
        assert shown(reach.report(scope_of(org), program, Period(day, day)).total) == direct(program, Period(day, day))


def test_a_second_refresh_with_nothing_new_changes_nothing_and_a_rebuild_agrees(world):
    org, program, _ = world
    reach_rollup.refresh(program)
    first = reach.report(scope_of(org), program).total.counts
    reach_rollup.refresh(program)
    assert reach.report(scope_of(org), program).total.counts == first
    reach_rollup.rebuild(program)
    assert reach.report(scope_of(org), program).total.counts == first


def test_a_status_change_committed_behind_a_later_id_is_still_picked_up(world):
    """An event whose id is below the last mark (its transaction committed late) is read again next time."""
    org, program, people = world
    reach_rollup.refresh(program)
    d = Delivery.objects.get(provider_message_id="sms-0-b")
    reach_rollup.refresh(program)  # marks move on
    Delivery.objects.filter(pk=d.pk).update(status="delivered")
    event = DeliveryEvent.objects.create(delivery=d, kind="status", status="delivered", source="webhook")
    state = program.__class__.objects.get(pk=program.pk)
    from campaignid.distribution.reach_models import ReachState

    ReachState.objects.filter(program=state).update(event_mark=event.pk)  # as if seen-but-not-committed
    reach_rollup.refresh(program)
    medina = {r.uid: r for r in reach.report(scope_of(org), program, parent=PLATEAU).rows}[MEDINA]
    assert shown(medina) == direct(program, units=[MEDINA])


def test_the_period_counts_deliveries_created_in_it_only(world):
    org, program, _ = world
    reach_rollup.refresh(program)
    april = Period(date(2026, 4, 1), date(2026, 4, 30))
    rep = reach.report(scope_of(org), program, april)
    assert shown(rep.total) == direct(program, april)
    assert rep.total.counts["delivered"] == 0 and rep.total.counts["sent"] == 4
    march_10 = Period(date(2026, 3, 10), date(2026, 3, 10))  # inclusive on both ends
    assert reach.report(scope_of(org), program, march_10).total.counts["delivered"] == 6


def test_a_health_worker_sees_only_their_district(world):
    org, program, _ = world
    reach_rollup.refresh(program)
    worker = scope_of(org, role=Membership.HEALTH_WORKER, org_units=frozenset({PLATEAU}))
    rep = reach.report(worker, program)
    assert [r.uid for r in rep.rows] == [FANN, MEDINA]  # their view starts at their district
    assert shown(rep.total) == direct(program, units=[MEDINA, FANN])
    for outside in (THIES, "unknown", PIKINE):
        with pytest.raises(NotFound):
            reach.report(worker, program, parent=outside)
    assert reach.report(worker, program, parent=ROOT).rows == rep.rows  # above their tree: the same view
    nobody = scope_of(org, role=Membership.HEALTH_WORKER, org_units=frozenset())
    assert reach.report(nobody, program).rows == []


def test_the_tree_is_stored_with_ancestors_from_dhis2_shaped_units(world):
    org, _, _ = world
    post = OrgUnit.objects.get(organisation=org, uid=MEDINA)
    assert (post.level, post.parent, post.ancestors) == (4, PLATEAU, [ROOT, DAKAR, PLATEAU])
    region = OrgUnit.objects.get(organisation=org, uid=DAKAR)
    assert (region.name, region.level, region.path) == ("Dakar", 2, f"/{ROOT}/{DAKAR}")
    assert not OrgUnit.objects.filter(Q(uid=LOST) | Q(uid="")).exists()


def test_a_card_verified_again_the_same_day_counts_once_and_invalid_tokens_not_at_all(world):
    from datetime import timedelta

    from django.test import Client

    from campaignid.cards.service import revoke_card
    from campaignid.verification.service import record_scan, verify_token

    org, program, people = world
    card, _ = issue_card(people[MEDINA][0])
    client = Client()
    for _ in range(3):  # checked three times at the vaccination post
        assert client.post("/api/v1/verify", {"token": card.token}, content_type="application/json").json()[
            "status"] == "valid"
    assert CardEvent.objects.filter(card=card, kind="verified").count() == 1
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert record_scan(verify_token(card.token), now=tomorrow) is True  # another day: counted again
    client.post("/api/v1/verify", {"token": card.token[:-4] + "AAAA"}, content_type="application/json")
    other, _ = issue_card(people[FANN][0])
    revoke_card(other, reason="lost")
    client.post("/api/v1/verify", {"token": other.token}, content_type="application/json")
    assert CardEvent.objects.filter(kind="verified").count() == 2  # neither the forged nor the revoked one
    reach_rollup.refresh(program)
    medina = {r.uid: r for r in reach.report(scope_of(org), program, parent=PLATEAU).rows}[MEDINA]
    assert medina.counts["verified"] == 2 and shown(medina) == direct(program, units=[MEDINA])


def test_the_reach_command_refreshes_or_rebuilds_and_refuses_an_unknown_programme(world):
    from io import StringIO

    from django.core.management import CommandError, call_command

    org, program, _ = world
    out = StringIO()
    call_command("reach", program.dhis2_program_uid, "--rebuild", stdout=out)
    assert "rebuilt in" in out.getvalue()
    assert shown(reach.report(scope_of(org), program).total) == direct(program)
    with pytest.raises(CommandError, match="No programme NoSuchProg1"):
        call_command("reach", "NoSuchProg1")
