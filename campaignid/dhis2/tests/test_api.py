"""/dhis2/… endpoints against the DHIS2 emulator: connection, programmes, mapping, schedule, sync runs."""

import pytest

from campaignid.dhis2.models import Connection, SyncRun
from campaignid.lib.testing import free_port
from campaignid.programs.models import Beneficiary, Membership

from .conftest import CHILD, PAT, VERSIONS, dhis2_url, fault, set_version, settle

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(make_org, make_token):
    org, program = make_org()
    return org, program, make_token(org)


def configure(api_client, sandbox, token, **extra):
    body = {"url": dhis2_url(sandbox), "username": "admin", "password": "district", **extra}
    return api_client("POST", "/dhis2/config", token, body)


@pytest.mark.parametrize("version", VERSIONS)
def test_test_connection_answers_connected(sandbox, api_client, admin, version):
    set_version(sandbox, version)
    r = api_client("POST", "/dhis2/test-connection", admin[2],
                   {"url": dhis2_url(sandbox) + "/", "username": "admin", "password": "district"})
    body = r.json()
    assert r.status_code == 200 and body["status"] == "connected"
    assert body["dhis2_version"] == version and body["server_date"] and body["programmes_available"] == 3
    assert body["organisation_units"] == ["ImspTQPwCqd"]


def test_test_connection_with_a_personal_access_token(sandbox, api_client, admin):
    r = api_client("POST", "/dhis2/test-connection", admin[2], {"url": dhis2_url(sandbox), "token": PAT})
    assert r.status_code == 200 and r.json()["status"] == "connected"


@pytest.mark.parametrize("body", [{"username": "admin", "password": "wrong"}, {"token": "d2pat_wrong0000000001"}])
def test_test_connection_reports_auth_failed(sandbox, api_client, admin, body):
    r = api_client("POST", "/dhis2/test-connection", admin[2], {"url": dhis2_url(sandbox), **body})
    assert r.status_code == 401
    assert r.json()["status"] == "auth_failed" and r.json()["error"]["code"] == "dhis2_auth_failed"
    assert "401" in r.json()["error"]["message"]


def test_test_connection_reports_unreachable(api_client, admin):
    r = api_client("POST", "/dhis2/test-connection", admin[2],
                   {"url": f"http://127.0.0.1:{free_port()}", "username": "admin", "password": "district"})
    assert r.status_code == 503 and r.json()["status"] == "unreachable"
    assert "Cannot reach DHIS2" in r.json()["error"]["message"]


def test_test_connection_is_bounded_in_time(sandbox, api_client, admin, settings):
    import time

    settings.DHIS2_TEST_TIMEOUT_SECONDS = 0.5
    fault(sandbox, "timeout", op="programs", seconds=1.5)
    started = time.monotonic()
    r = api_client("POST", "/dhis2/test-connection", admin[2],
                   {"url": dhis2_url(sandbox), "username": "admin", "password": "district"})
    assert r.status_code == 503 and r.json()["error"]["code"] in ("dhis2_timeout", "dhis2_unreachable")
    assert time.monotonic() - started < 1.4
    settle(1.2)


def test_test_connection_refuses_a_non_http_url(api_client, admin):
    r = api_client("POST", "/dhis2/test-connection", admin[2], {"url": "file:///etc/passwd", "token": "x"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_connection"


def test_config_is_saved_encrypted_and_never_returned(sandbox, api_client, admin):
    org, _, token = admin
    r = configure(api_client, sandbox, token)
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "configured" and body["username"] == "admin" and body["has_secret"]
    assert "district" not in r.content.decode() and "password" not in body
    raw = Connection.objects.filter(organisation=org).values_list("secrets", flat=True)
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT secrets FROM dhis2_connection")
        stored = c.fetchone()[0]
    assert "district" not in stored and raw
    got = api_client("GET", "/dhis2/config", token)
    assert got.status_code == 200 and "district" not in got.content.decode()
    again = api_client("POST", "/dhis2/config", token, {"url": dhis2_url(sandbox), "org_units": ["ImspTQPwCqd"]})
    assert again.status_code == 200 and again.json()["org_units"] == ["ImspTQPwCqd"]
    assert Connection.objects.get(organisation=org).secrets == {"password": "district"}  # kept


def test_config_with_a_token_hides_it(sandbox, api_client, admin):
    r = api_client("POST", "/dhis2/config", admin[2], {"url": dhis2_url(sandbox), "token": PAT})
    assert r.status_code == 201 and r.json()["auth"] == "token" and PAT not in r.content.decode()


def test_saved_connection_can_be_tested_without_resending_secrets(sandbox, api_client, admin):
    configure(api_client, sandbox, admin[2])
    r = api_client("POST", "/dhis2/test-connection", admin[2], {})
    assert r.status_code == 200 and r.json()["status"] == "connected"
    assert api_client("GET", "/dhis2/config", admin[2]).json()["status"] == "connected"


def test_programmes_and_their_attributes_with_the_preselected_mapping(sandbox, api_client, admin):
    configure(api_client, sandbox, admin[2])
    programmes = api_client("GET", "/dhis2/programmes", admin[2]).json()
    child = next(p for p in programmes if p["uid"] == CHILD)
    assert child["programme_id"] == admin[1].pk and not child["mapping_configured"] and len(programmes) == 3
    r = api_client("GET", f"/dhis2/programmes/{CHILD}/attributes", admin[2])
    body = r.json()
    phone = next(a for a in body["attributes"] if a["value_type"] == "PHONE_NUMBER")
    assert phone["suggested_card_field"] == "phone" and phone["mapped_card_field"] is None
    assert {a["code"] for a in body["attributes"]} >= {"MMD_PER_NAM", "MMD_PER_LST", "MMD_PER_DOB"}
    assert body["suggested_mapping"]["first_name"]["code"] == "MMD_PER_NAM"
    missing = api_client("GET", "/dhis2/programmes/AAAAAAAAAAA/attributes", admin[2])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "dhis2_programme_not_found"


def test_assign_codes_stores_the_mapping_on_the_programme(sandbox, api_client, admin):
    configure(api_client, sandbox, admin[2])
    r = api_client("POST", "/dhis2/assign-codes", admin[2], {"programme_uid": CHILD, "mappings": [
        {"dhis2_attribute_code": "MMD_PER_NAM", "card_field": "first_name"},
        {"dhis2_attribute_display_name": "Phone number", "card_field": "phone_number"}]})
    body = r.json()
    assert r.status_code == 200 and body["mappings_configured"] == 2
    assert set(body["unmapped_card_fields"]) == {"last_name", "date_of_birth", "sex"}
    admin[1].refresh_from_db()
    assert admin[1].options["dhis2_mapping"]["phone"]["uid"] == "P2cwLGskgxn"
    bad = api_client("POST", "/dhis2/assign-codes", admin[2], {"programme_uid": CHILD, "mappings": [
        {"dhis2_attribute_code": "NOPE", "card_field": "first_name"}]})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_mapping"


def test_sync_schedule_accepts_the_documented_intervals_only(sandbox, api_client, admin):
    r = api_client("POST", "/dhis2/sync-schedule", admin[2],
                   {"programme_uid": CHILD, "interval_minutes": 15, "enabled": True, "auto_generate_cards": False})
    assert r.status_code == 200 and r.json()["next_sync"] and r.json()["interval_minutes"] == 15
    bad = api_client("POST", "/dhis2/sync-schedule", admin[2], {"programme_uid": CHILD, "interval_minutes": 20})
    assert bad.status_code == 422
    listed = api_client("GET", "/dhis2/sync-schedule", admin[2]).json()
    assert listed == [r.json()]


def test_sync_is_queued_and_recorded(sandbox, api_client, admin, queue_inline):
    configure(api_client, sandbox, admin[2])
    r = api_client("POST", "/dhis2/sync", admin[2], {"programme_uid": CHILD})
    assert r.status_code == 202 and r.json()["created"]
    run = SyncRun.objects.get(pk=r.json()["run_id"])
    assert run.status == SyncRun.Status.SUCCESS and run.triggered_by == "manual"
    assert Beneficiary.objects.filter(program=admin[1]).count() == run.created > 0
    runs = api_client("GET", f"/dhis2/sync-runs?programme_uid={CHILD}", admin[2]).json()
    assert runs[0]["id"] == run.pk and runs[0]["created"] == run.created and runs[0]["programme_uid"] == CHILD
    one = api_client("GET", f"/dhis2/sync-runs/{run.pk}", admin[2]).json()
    assert one["status"] == "success" and one["next_cursor"]


def test_sync_already_queued_returns_that_run(sandbox, api_client, admin):
    configure(api_client, sandbox, admin[2])
    first = api_client("POST", "/dhis2/sync", admin[2], {"programme_uid": CHILD}).json()
    second = api_client("POST", "/dhis2/sync", admin[2], {"programme_uid": CHILD}).json()
    assert second["run_id"] == first["run_id"] and not second["created"] and second["status"] == "queued"


def test_sync_without_connection_is_a_conflict(api_client, admin):
    r = api_client("POST", "/dhis2/sync", admin[2], {"programme_uid": CHILD})
    assert r.status_code == 409 and r.json()["error"]["code"] == "dhis2_not_configured"


def test_programme_users_cannot_change_the_connection(sandbox, api_client, make_org, make_token):
    org, _ = make_org()
    token = make_token(org, role=Membership.PROGRAMME_USER)
    r = configure(api_client, sandbox, token)
    assert r.status_code == 403


def test_organisations_are_isolated(sandbox, api_client, make_org, make_token, queue_inline):
    org_a, prog_a = make_org("org-a", "AAA-VAC")
    org_b, _ = make_org("org-b", "BBB-VAC")
    token_a, token_b = make_token(org_a), make_token(org_b)
    configure(api_client, sandbox, token_a)
    run_id = api_client("POST", "/dhis2/sync", token_a, {"programme_uid": CHILD}).json()["run_id"]
    assert api_client("GET", f"/dhis2/sync-runs/{run_id}", token_b).status_code == 404
    assert api_client("GET", "/dhis2/sync-runs", token_b).json() == []
    assert api_client("GET", "/dhis2/config", token_b).status_code == 409
    assert api_client("GET", "/dhis2/programmes", token_b).status_code == 409
    sched = api_client("POST", "/dhis2/sync-schedule", token_b,
                       {"programme_uid": "ur1Edk5Oe2n", "interval_minutes": 10})
    assert sched.status_code == 404
    assert Beneficiary.objects.filter(program__organisation=org_b).count() == 0
    assert Beneficiary.objects.filter(program=prog_a).count() > 0
