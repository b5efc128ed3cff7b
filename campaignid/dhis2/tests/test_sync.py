"""Sync runs against the DHIS2 emulator over TCP, for each API generation (2.36 legacy, 2.39, 2.41)."""

import pytest

from campaignid.dhis2 import sync
from campaignid.dhis2.models import ProgrammeSync, SyncRun
from campaignid.programs.models import Beneficiary
from campaignid.sandbox.testing import control

from .conftest import CHILD, PAT, VERSIONS, fault, ground_truth, served, settle, state

pytestmark = pytest.mark.django_db


def run(program, full=False):
    return sync.run_now(program, SyncRun.Trigger.CLI, full=full)


def enrolled(sandbox) -> int:
    return state(sandbox)["counts"]["enrollmentsByProgram"][CHILD]


@pytest.mark.parametrize("version", VERSIONS + ["2.42.1"])
def test_full_sync_imports_every_enrollment_of_the_programme(sandbox, connect, version):
    _, program, _ = connect(version)
    r = run(program)
    assert r.status == SyncRun.Status.SUCCESS, r.error_message
    assert r.api == {"2.36": "legacy", "2.39": "tracker-2.38", "2.41": "tracker-2.41", "2.42": "tracker-2.41"}[
        version[:4]]
    assert r.created + r.skipped == enrolled(sandbox) == r.fetched
    assert r.pages == r.fetched // 50 + 1
    assert Beneficiary.objects.filter(program=program, source="dhis2").count() == r.created
    assert r.next_cursor and r.cursor == "" and r.duration_seconds is not None
    assert state(sandbox)["write_attempts"] == 0


@pytest.mark.parametrize("version", VERSIONS)
def test_imported_values_match_dhis2(sandbox, connect, version):
    _, program, _ = connect(version, default_country="SL")
    run(program)
    b = Beneficiary.objects.filter(program=program, active=True).exclude(phone="").order_by("id").first()
    truth = ground_truth(sandbox, b.tei_uid)
    assert b.first_name == truth["values"]["w75KJ2mc4zz"] and b.last_name == truth["values"]["zDhUuAYrxNC"]
    assert b.date_of_birth.isoformat() == truth["values"]["gHGyrwKPzej"]
    assert b.phone.startswith("+") and b.sex in ("M", "F")
    assert b.enrollment_id in {e["uid"] for e in truth["enrollments"]}
    assert b.org_unit == truth["orgUnit"] and b.org_unit_name and b.enrolled_at is not None
    assert "w75KJ2mc4zz" not in b.attributes and "MMD_PER_NAM" not in b.attributes  # mapped: not duplicated


@pytest.mark.parametrize("version", VERSIONS)
def test_incremental_sync_applies_updates_creations_deletions_and_cancellations(sandbox, connect, version):
    _, program, _ = connect(version)
    first = run(program)
    before = Beneficiary.objects.filter(program=program).count()
    changes = control(sandbox, "/dhis2/mutate", {"update": 3, "create": 2, "delete": 2, "cancel": 2})
    second = run(program)
    assert second.status == SyncRun.Status.SUCCESS and second.cursor == first.next_cursor
    assert second.fetched < first.fetched  # only what changed since the cursor (plus the overlap)
    assert second.created == 2
    assert Beneficiary.objects.filter(program=program).count() == before + 2  # nothing deleted, nothing doubled
    gone = Beneficiary.objects.filter(program=program, tei_uid__in=changes["deleted"])
    cancelled = Beneficiary.objects.filter(program=program, tei_uid__in=changes["cancelled"])
    assert gone.exists() or cancelled.exists()  # some of the changes concern this programme
    assert not gone.filter(active=True).exists()
    assert all(b.enrollment_status == "CANCELLED" and not b.active for b in cancelled)
    for uid in changes["created"]:
        assert Beneficiary.objects.get(program=program, tei_uid=uid).active


@pytest.mark.parametrize("version", VERSIONS)
def test_rerun_changes_nothing_and_full_sync_skips_unchanged_rows(sandbox, connect, version):
    _, program, _ = connect(version)
    first = run(program)
    again = run(program, full=True)
    assert again.status == SyncRun.Status.SUCCESS and again.cursor == ""
    assert (again.created, again.updated) == (0, 0) and again.skipped == first.fetched
    assert Beneficiary.objects.filter(program=program).count() == first.created


def test_messy_phone_numbers_are_counted_never_fatal(sandbox, connect):
    _, program, _ = connect("2.41.3", default_country="SN")
    r = run(program)
    assert r.status == SyncRun.Status.SUCCESS
    no_phone = Beneficiary.objects.filter(program=program, phone="").count()
    assert r.phones_unparsable > 0 and no_phone >= r.phones_unparsable
    assert all(p.startswith("+") for p in Beneficiary.objects.filter(program=program).exclude(phone="")
               .values_list("phone", flat=True))


@pytest.mark.parametrize("version", VERSIONS)
def test_bad_credentials_stop_the_run_with_a_clear_message(sandbox, connect, version):
    _, program, _ = connect(version, password="wrong")
    r = run(program)
    assert r.status == SyncRun.Status.FAILED and r.error_code == "dhis2_auth_failed"
    assert "401" in r.error_message and "password" in r.error_message
    assert len(served(sandbox, "/system/info")) == 1  # no retry on 401
    assert Beneficiary.objects.filter(program=program).count() == 0


def test_personal_access_token_reads_2_37_and_later(sandbox, connect):
    _, program, _ = connect("2.39.1", token=PAT)
    assert run(program).status == SyncRun.Status.SUCCESS
    assert all(r["headers"].get("authorization", "").startswith("ApiToken ") for r in served(sandbox, "/api/"))


def test_personal_access_token_on_2_36_fails_clearly(sandbox, connect):
    _, program, _ = connect("2.36.13", token=PAT)
    r = run(program)
    assert r.status == SyncRun.Status.FAILED and r.error_code == "dhis2_auth_failed"


@pytest.mark.parametrize("version", VERSIONS)
def test_server_error_on_page_two_keeps_the_cursor_and_the_next_run_resumes(sandbox, connect, version):
    _, program, _ = connect(version)
    fault(sandbox, "http_500", count=3, page=2)  # every attempt of page 2 fails
    broken = run(program)
    assert broken.status == SyncRun.Status.PARTIAL and broken.error_code == "dhis2_server_error"
    assert broken.pages == 1 and broken.created + broken.skipped == 50
    resumed = run(program)
    assert resumed.status == SyncRun.Status.SUCCESS
    assert resumed.cursor == broken.next_cursor  # resumes after what was imported in order
    assert resumed.fetched < enrolled(sandbox)  # not from the start again
    clean = Beneficiary.objects.filter(program=program).count()
    assert clean == broken.created + resumed.created  # nothing duplicated
    assert clean == enrolled(sandbox) - 1  # every enrollment but the deleted one


def test_failure_before_any_page_keeps_the_previous_cursor(sandbox, connect):
    _, program, _ = connect("2.41.3")
    first = run(program)
    fault(sandbox, "http_503", count=3)
    broken = run(program)
    assert broken.status == SyncRun.Status.FAILED and broken.next_cursor == ""
    assert ProgrammeSync.objects.get(program=program).cursor == first.next_cursor


def test_transient_errors_are_retried_with_backoff(sandbox, connect):
    _, program, _ = connect("2.39.1")
    fault(sandbox, "http_502", count=1, page=2)
    fault(sandbox, "http_429", op="system", count=1, retry_after=0)
    r = run(program)
    assert r.status == SyncRun.Status.SUCCESS, r.error_message
    assert r.created + r.skipped == enrolled(sandbox)


def test_dropped_connection_and_timeout_are_retried_then_reported(sandbox, connect, settings):
    settings.DHIS2_TIMEOUT_SECONDS = 0.5
    _, program, _ = connect("2.41.3")
    fault(sandbox, "reset", count=1, page=1)
    fault(sandbox, "timeout", count=3, page=2, seconds=1)
    r = run(program)
    assert r.status == SyncRun.Status.PARTIAL and r.error_code == "dhis2_unreachable"
    assert "0.5 s" in r.error_message
    settle(0.6)


def test_one_sync_per_programme_at_a_time(sandbox, connect):
    from campaignid.dhis2 import locks

    _, program, _ = connect("2.41.3")
    holder = sync.start_run(program, SyncRun.Trigger.MANUAL)
    assert locks.acquire(program, holder.pk)
    second = run(program)
    assert second.status == SyncRun.Status.FAILED and second.error_code == "already_running"
    locks.release(program, holder.pk)
    assert run(program).status == SyncRun.Status.SUCCESS


def test_a_lock_left_by_a_killed_worker_expires(sandbox, connect, settings):
    from campaignid.dhis2 import locks

    settings.DHIS2_LOCK_SECONDS = -1  # every lease is already over
    _, program, _ = connect("2.41.3")
    dead = sync.start_run(program, SyncRun.Trigger.SCHEDULED)
    SyncRun.objects.filter(pk=dead.pk).update(status=SyncRun.Status.RUNNING)
    assert locks.acquire(program, dead.pk)
    assert locks.fail_abandoned() == 1
    assert SyncRun.objects.get(pk=dead.pk).error_code == "worker_lost"
    assert run(program).status == SyncRun.Status.SUCCESS


def test_unknown_programme_fails_with_a_dhis2_message(sandbox, connect):
    _, program, _ = connect("2.41.3")
    program.dhis2_program_uid = "AAAAAAAAAAA"
    program.save()
    r = run(program)
    assert r.status == SyncRun.Status.FAILED and r.error_code == "programme_not_found"


@pytest.mark.parametrize("version, path, params", [
    ("2.36.13", "/api/trackedEntityInstances", {"ou", "ouMode", "lastUpdatedStartDate", "order=lastUpdated:asc"}),
    ("2.39.1", "/api/tracker/trackedEntities", {"orgUnit", "ouMode", "updatedAfter", "order=updatedAt:asc"}),
    ("2.41.3", "/api/tracker/trackedEntities", {"orgUnits", "orgUnitMode", "updatedAfter", "order=updatedAt:asc"}),
])
def test_each_generation_is_asked_with_its_own_parameters_and_always_paged(sandbox, connect, version, path, params):
    from urllib.parse import parse_qsl

    _, program, _ = connect(version)
    run(program)
    run(program)
    pages = [r for r in served(sandbox, "/api/") if r["path"].endswith(path)]
    assert pages and not [r for r in served(sandbox, "/api/") if "trackedEntit" in r["path"] and r not in pages]
    incremental = dict(parse_qsl(pages[-1]["query"]))
    sent = set(incremental) | {f"{k}={v}" for k, v in incremental.items()}
    assert params <= sent and incremental["includeDeleted"] == "true" and incremental["pageSize"] == "50"
    for r in pages:
        query = dict(parse_qsl(r["query"]))
        assert "paging" not in query and "skipPaging" not in query and query["page"].isdigit()


@pytest.mark.parametrize("version", ["2.36.13", "2.41.3"])
def test_a_sync_stores_the_org_unit_tree_the_reach_report_sums_on(sandbox, connect, version):
    from campaignid.distribution import reach, reach_rollup
    from campaignid.programs.access import Scope
    from campaignid.programs.models import Membership, OrgUnit

    org, program, _ = connect(version)
    assert run(program).status == SyncRun.Status.SUCCESS
    units = set(Beneficiary.objects.filter(program=program).values_list("org_unit", flat=True))
    stored = {o.uid: o for o in OrgUnit.objects.filter(organisation=org)}
    assert units and units <= set(stored)
    for uid in units:  # each health post with its whole chain of ancestors, named
        chain = stored[uid].ancestors
        assert chain and all(a in stored and stored[a].name for a in chain)
        assert [stored[a].level for a in chain] == list(range(1, len(chain) + 1))
    metadata_calls = len(served(sandbox, "organisationUnits"))
    assert run(program).status == SyncRun.Status.SUCCESS  # a rerun asks again (names may change), once a page
    assert len(served(sandbox, "organisationUnits")) - metadata_calls <= 2 * (len(units) // 100 + 1) + 2
    reach_rollup.refresh(program)
    top = reach.report(Scope(org, None, Membership.ADMIN), program)
    assert top.total.counts["beneficiaries"] == Beneficiary.objects.filter(program=program, active=True).count()
    assert all(r.uid != "unknown" for r in top.rows)  # DHIS2 described every unit: nobody is of unknown place
