"""DHIS2 emulator over TCP: tracked entities per version (endpoints, parameter names, envelopes),
incremental sync (updatedAfter, order, includeDeleted, mutations) and page-targeted faults."""

import http.client
import socket
import time

import pytest

from .conftest import control
from .test_dhis2 import CHILD, SERVER_DATE, UID, api, use_version

ROOT, BO, BADJIA = "ImspTQPwCqd", "O6uvpzGd5pu", "YuQRtpLP10I"
BADJIA_FACILITIES = {"DiszpKrYNg8", "g8upMTyEZGZ"}
BO_FACILITIES = BADJIA_FACILITIES | {"r5WWF9WDzoa", "tlMeFk8C4CG"}
PHONE = "P2cwLGskgxn"

# How a version-aware client talks to each version (the matrix of the contract, §1.4).
PROFILES = {
    "2.36.13": {"path": "trackedEntityInstances", "ou": "ou", "mode": "ouMode", "after": "lastUpdatedStartDate",
                "key": "trackedEntityInstances", "uid": "trackedEntityInstance", "updated": "lastUpdated",
                "order": "lastUpdated:asc", "fields": "*"},
    "2.39.1": {"path": "tracker/trackedEntities", "ou": "orgUnit", "mode": "ouMode", "after": "updatedAfter",
               "key": "instances", "uid": "trackedEntity", "updated": "updatedAt", "order": "updatedAt:asc",
               "fields": "trackedEntity,orgUnit,updatedAt,deleted,inactive,attributes[attribute,code,value],"
                         "enrollments[enrollment,program,status,orgUnit,enrolledAt,deleted]"},
    "2.41.3": {"path": "tracker/trackedEntities", "ou": "orgUnits", "mode": "orgUnitMode", "after": "updatedAfter",
               "key": "trackedEntities", "uid": "trackedEntity", "updated": "updatedAt", "order": "updatedAt:asc",
               "fields": "trackedEntity,orgUnit,updatedAt,deleted,inactive,attributes[attribute,code,value],"
                         "enrollments[enrollment,program,status,orgUnit,enrolledAt,deleted]"},
}
VERSIONS = list(PROFILES)


def fetch(sandbox, version, page=1, page_size=50, ou=ROOT, mode="DESCENDANTS", **extra):
    p = PROFILES[version]
    params = {"program": CHILD, p["ou"]: ou, p["mode"]: mode, "order": p["order"], "page": page,
              "pageSize": page_size, "fields": p["fields"]}
    params.update({p.get(k, k): v for k, v in extra.items()})
    return api(sandbox, p["path"], {k: v for k, v in params.items() if v is not None})


def rows(version, body):
    return body[PROFILES[version]["key"]]


def sync_all(sandbox, version, page_size, **extra):
    """Page until a short page, the way a robust client does."""
    seen, page = [], 1
    while True:
        reply = fetch(sandbox, version, page=page, page_size=page_size, **extra)
        assert reply.status == 200, reply.raw
        batch = rows(version, reply.json)
        seen += batch
        if len(batch) < page_size:
            return seen
        page += 1


# -- envelopes ----------------------------------------------------------------------------------------

ENVELOPES = [
    ("2.36.13", {"pager", "trackedEntityInstances"}, {"page", "pageSize", "total", "pageCount"}),
    ("2.39.1", {"instances", "page", "pageSize", "total"}, None),
    ("2.41.3", {"pager", "page", "pageSize", "total", "pageCount", "trackedEntities"},
     {"page", "pageSize", "total", "pageCount", "nextPage"}),
]


@pytest.mark.parametrize(("version", "top", "pager"), ENVELOPES)
def test_each_version_answers_with_its_collection_key_and_paging_metadata(sandbox, version, top, pager):
    use_version(sandbox, version)
    body = fetch(sandbox, version, page_size=10, totalPages="true").json
    assert set(body) == top
    if pager:
        assert set(body["pager"]) == pager
        assert body["pager"]["page"] == 1 and body["pager"]["pageSize"] == 10
    total = body["pager"]["total"] if "pager" in body else body["total"]
    assert total > 200
    assert len(rows(version, body)) == 10


@pytest.mark.parametrize(("version", "top"), [("2.39.1", {"instances", "page", "pageSize"}),
                                              ("2.41.3", {"pager", "page", "pageSize", "trackedEntities"})])
def test_totals_are_only_computed_when_requested(sandbox, version, top):
    use_version(sandbox, version)
    body = fetch(sandbox, version, page_size=10).json
    assert set(body) == top


@pytest.mark.parametrize(("version", "params", "key"), [
    ("2.39.1", {"orgUnit": ROOT, "ouMode": "DESCENDANTS", "skipPaging": "true"}, "instances"),
    ("2.41.3", {"orgUnits": ROOT, "orgUnitMode": "DESCENDANTS", "paging": "false"}, "trackedEntities"),
    ("2.41.3", {"orgUnit": ROOT, "ouMode": "DESCENDANTS", "skipPaging": "true"}, "trackedEntities"),
])
def test_paging_can_be_switched_off_with_each_versions_parameter(sandbox, version, params, key):
    use_version(sandbox, version)
    body = api(sandbox, "tracker/trackedEntities", {**params, "fields": "trackedEntity"}).json
    assert set(body) == {key}
    state = control(sandbox, "/dhis2/state", method="GET")["counts"]
    assert len(body[key]) == state["trackedEntities"] - state["deleted"]


@pytest.mark.parametrize("version", VERSIONS)
def test_full_sync_pages_through_every_entity_once_in_updated_order(sandbox, version):
    use_version(sandbox, version)
    expected = fetch(sandbox, version, page_size=1, totalPages="true").json
    total = expected["pager"]["total"] if "pager" in expected else expected["total"]
    seen = sync_all(sandbox, version, page_size=40)
    uids = [r[PROFILES[version]["uid"]] for r in seen]
    assert len(uids) == len(set(uids)) == total
    stamps = [r[PROFILES[version]["updated"]] for r in seen]
    assert stamps == sorted(stamps)
    assert all(SERVER_DATE.match(s) for s in stamps)
    assert all(UID.match(u) for u in uids)


@pytest.mark.parametrize("version", VERSIONS)
def test_updated_after_returns_only_entities_changed_since_the_cursor(sandbox, version):
    use_version(sandbox, version)
    everything = sync_all(sandbox, version, page_size=200)
    field = PROFILES[version]["updated"]
    cursor = everything[150][field]
    expected = [r for r in everything if r[field] >= cursor]
    recent = sync_all(sandbox, version, page_size=50, after=cursor)
    assert [r[field] for r in recent] == [r[field] for r in expected]
    assert recent[0][field] == cursor  # inclusive bound


def test_default_order_is_oldest_first_and_desc_order_is_honoured(sandbox):
    default = api(sandbox, "tracker/trackedEntities", {"pageSize": 100, "fields": "createdAt,updatedAt"}).json
    created = [r["createdAt"] for r in default["trackedEntities"]]
    assert created == sorted(created)
    desc = api(sandbox, "tracker/trackedEntities", {"pageSize": 100, "order": "updatedAt:desc",
                                                    "fields": "updatedAt"}).json["trackedEntities"]
    assert [r["updatedAt"] for r in desc] == sorted((r["updatedAt"] for r in desc), reverse=True)


@pytest.mark.parametrize("version", VERSIONS)
def test_deleted_entities_only_show_with_include_deleted(sandbox, version):
    use_version(sandbox, version)
    uid = PROFILES[version]["uid"]
    victims = [r[uid] for r in rows(version, fetch(sandbox, version, page_size=3).json)]
    assert control(sandbox, "/dhis2/mutate", {"delete": victims})["deleted"] == victims
    hidden = sync_all(sandbox, version, page_size=200)
    assert not {r[uid] for r in hidden} & set(victims)
    assert not any(r["deleted"] for r in hidden)
    shown = sync_all(sandbox, version, page_size=200, includeDeleted="true")
    deleted = {r[uid] for r in shown if r["deleted"]}
    assert deleted >= set(victims)
    assert len(shown) == len(hidden) + len(deleted)


@pytest.mark.parametrize("version", VERSIONS)
def test_mutations_show_up_in_the_next_incremental_query(sandbox, version):
    use_version(sandbox, version)
    control(sandbox, "/clock", {"advance": 5})
    cursor = api(sandbox, "system/info").json["serverDate"]
    control(sandbox, "/clock", {"advance": 5})
    out = control(sandbox, "/dhis2/mutate", {"update": 4, "create": 3, "delete": 2, "cancel": 2})
    assert len(out["created"]) == 3 and all(UID.match(u) for u in out["created"])
    p = PROFILES[version]
    params = {p["ou"]: ROOT, p["mode"]: "DESCENDANTS", p["after"]: cursor, "includeDeleted": "true",
              "order": p["order"], "pageSize": 100, "fields": "*"}
    changed = rows(version, api(sandbox, p["path"], params).json)
    touched = set(out["updated"]) | set(out["created"]) | set(out["deleted"]) | set(out["cancelled"])
    assert {r[p["uid"]] for r in changed} == touched
    assert all(r[p["updated"]] >= cursor for r in changed)
    by_uid = {r[p["uid"]]: r for r in changed}
    assert all(by_uid[u]["deleted"] for u in out["deleted"])
    cancelled = [e["status"] for u in out["cancelled"] for e in by_uid[u]["enrollments"]]
    assert "CANCELLED" in cancelled


# -- parameters per version ---------------------------------------------------------------------------

SCOPE_CASES = [
    # (version, path, params, status)
    ("2.36.13", "trackedEntityInstances", {"program": CHILD}, 409),
    ("2.36.13", "trackedEntityInstances", {"program": CHILD, "ou": ROOT, "ouMode": "DESCENDANTS"}, 200),
    ("2.39.1", "tracker/trackedEntities", {"program": CHILD}, 409),
    ("2.39.1", "tracker/trackedEntities", {"program": CHILD, "orgUnits": ROOT}, 409),  # 2.41 name unknown
    ("2.39.1", "tracker/trackedEntities", {"program": CHILD, "orgUnit": ROOT, "ouMode": "DESCENDANTS"}, 200),
    ("2.41.3", "tracker/trackedEntities", {"program": CHILD}, 200),  # ACCESSIBLE by default
    ("2.41.3", "tracker/trackedEntities", {"program": CHILD, "orgUnit": ROOT, "ouMode": "DESCENDANTS"}, 200),
    ("2.41.3", "tracker/trackedEntities", {"orgUnits": ROOT, "orgUnit": ROOT}, 400),
    ("2.41.3", "tracker/trackedEntities", {"orgUnits": ROOT, "orgUnitMode": "ACCESSIBLE"}, 400),
    ("2.41.3", "tracker/trackedEntities", {"orgUnitMode": "ALL"}, 403),  # needs the search-all authority
    ("2.39.1", "tracker/trackedEntities", {"ouMode": "ALL"}, 409),
    ("2.41.3", "tracker/trackedEntities", {"orgUnits": "Xx345678901"}, 400),
    ("2.41.3", "tracker/trackedEntities", {"program": "Xx345678901"}, 400),
    ("2.39.1", "tracker/trackedEntities", {"program": "Xx345678901", "orgUnit": ROOT}, 409),
    ("2.41.3", "tracker/trackedEntities", {"programStatus": "ACTIVE"}, 400),  # needs program
    ("2.41.3", "tracker/trackedEntities", {"orgUnitMode": "EVERYWHERE"}, 400),
    ("2.41.3", "tracker/trackedEntities", {"updatedAfter": "yesterday"}, 400),
    ("2.41.3", "tracker/trackedEntities", {"order": "name:asc"}, 400),
    ("2.39.1", "tracker/trackedEntities", {"orgUnit": ROOT, "order": "name:asc"}, 200),
    ("2.41.3", "tracker/trackedEntities", {"pageSize": "0"}, 400),
]


@pytest.mark.parametrize(("version", "path", "params", "status"), SCOPE_CASES)
def test_query_parameters_are_validated_as_each_version_does(sandbox, version, path, params, status):
    use_version(sandbox, version)
    reply = api(sandbox, path, params)
    assert reply.status == status, reply.raw
    if status != 200:
        assert reply.json["httpStatusCode"] == status
        assert reply.json["status"] == "ERROR"


def test_the_legacy_endpoint_disappears_in_2_42(sandbox):
    use_version(sandbox, "2.41.3")
    assert api(sandbox, "trackedEntityInstances", {"ou": ROOT, "ouMode": "DESCENDANTS"}).status == 200
    use_version(sandbox, "2.42.0")
    assert api(sandbox, "trackedEntityInstances", {"ou": ROOT, "ouMode": "DESCENDANTS"}).status == 404
    body = api(sandbox, "tracker/trackedEntities", {"orgUnits": ROOT, "orgUnitMode": "DESCENDANTS"}).json
    assert set(body) == {"pager", "trackedEntities"}


MODE_CASES = [(BO, "SELECTED", set()), (BADJIA, "CHILDREN", BADJIA_FACILITIES), (BO, "DESCENDANTS", BO_FACILITIES),
              ("DiszpKrYNg8", "SELECTED", {"DiszpKrYNg8"})]


@pytest.mark.parametrize(("ou", "mode", "allowed"), MODE_CASES)
def test_org_unit_modes_scope_the_results(sandbox, ou, mode, allowed):
    found = sync_all(sandbox, "2.41.3", page_size=200, ou=ou, mode=mode)
    assert {r["orgUnit"] for r in found} <= allowed
    assert bool(found) == bool(allowed)


@pytest.mark.parametrize(("version", "status"), [("2.39.1", 409), ("2.41.3", 403)])
def test_search_scope_of_the_user_limits_accessible_and_refuses_outside_units(sandbox, version, status):
    use_version(sandbox, version, search_org_units=[BO])
    p = PROFILES[version]
    inside = sync_all(sandbox, version, page_size=200, ou=BO)
    assert inside and {r["orgUnit"] for r in inside} <= BO_FACILITIES
    outside = api(sandbox, p["path"], {p["ou"]: "kJq2mPyFEHo", p["mode"]: "DESCENDANTS"})
    assert outside.status == status
    if version == "2.41.3":
        accessible = api(sandbox, p["path"], {"pageSize": 500, "fields": "orgUnit"}).json["trackedEntities"]
        assert {r["orgUnit"] for r in accessible} <= BO_FACILITIES


def test_program_status_filters_on_the_enrollment_status(sandbox):
    found = sync_all(sandbox, "2.41.3", page_size=200, programStatus="COMPLETED")
    assert found
    assert all(any(e["status"] == "COMPLETED" and e["program"] == CHILD for e in r["enrollments"]) for r in found)


def test_attribute_filter_finds_one_person_by_unique_id(sandbox):
    first = fetch(sandbox, "2.41.3", page_size=1).json["trackedEntities"][0]
    unique = next(a["value"] for a in first["attributes"] if a["code"] == "MMD_PER_UID")
    found = fetch(sandbox, "2.41.3", filter=f"lZGmxYbs97q:eq:{unique}").json["trackedEntities"]
    assert [r["trackedEntity"] for r in found] == [first["trackedEntity"]]


# -- object shapes ------------------------------------------------------------------------------------

def test_field_selection_keeps_exactly_the_requested_fields(sandbox):
    body = fetch(sandbox, "2.41.3", page_size=20).json
    for row in body["trackedEntities"]:
        assert set(row) == {"trackedEntity", "orgUnit", "updatedAt", "deleted", "inactive", "attributes",
                            "enrollments"}
        assert all(set(a) == {"attribute", "code", "value"} for a in row["attributes"])
        assert all(set(e) == {"enrollment", "program", "status", "orgUnit", "enrolledAt", "deleted"}
                   for e in row["enrollments"])
        assert all(e["status"] in ("ACTIVE", "COMPLETED", "CANCELLED") for e in row["enrollments"])


def test_default_fields_leave_out_enrollments_and_2_36_ignores_fields(sandbox):
    plain = api(sandbox, "tracker/trackedEntities", {"pageSize": 3}).json["trackedEntities"][0]
    assert "enrollments" not in plain and "attributes" in plain
    use_version(sandbox, "2.36.13")
    whole = api(sandbox, "tracker/trackedEntities", {"pageSize": 3, "orgUnit": ROOT, "ouMode": "DESCENDANTS",
                                                     "fields": "trackedEntity"}).json["instances"][0]
    assert {"trackedEntity", "attributes", "enrollments", "updatedAt"} <= set(whole)


def test_attribute_objects_carry_code_name_type_and_value(sandbox):
    row = api(sandbox, "tracker/trackedEntities", {"program": CHILD, "pageSize": 1, "fields": "*"}).json
    attribute = row["trackedEntities"][0]["attributes"][0]
    assert {"attribute", "code", "displayName", "valueType", "value", "createdAt", "updatedAt",
            "storedBy"} <= set(attribute)
    enrollment = row["trackedEntities"][0]["enrollments"][0]
    assert {"enrollment", "program", "status", "orgUnit", "enrolledAt", "deleted", "attributes"} <= set(enrollment)
    assert "orgUnitName" not in enrollment  # removed from 2.41 output


def test_phone_attribute_shows_only_when_the_program_is_named(sandbox):
    fields = {"fields": "attributes[attribute]", "pageSize": 100}
    without = api(sandbox, "tracker/trackedEntities", fields).json["trackedEntities"]
    assert not any(a["attribute"] == PHONE for r in without for a in r["attributes"])
    with_program = api(sandbox, "tracker/trackedEntities", {**fields, "program": CHILD}).json["trackedEntities"]
    assert any(a["attribute"] == PHONE for r in with_program for a in r["attributes"])


def test_legacy_shape_uses_legacy_property_names(sandbox):
    use_version(sandbox, "2.36.13")
    row = fetch(sandbox, "2.36.13", page_size=1).json["trackedEntityInstances"][0]
    assert {"trackedEntityInstance", "created", "lastUpdated", "orgUnit", "attributes", "enrollments"} <= set(row)
    assert {"enrollmentDate", "incidentDate", "status", "orgUnitName"} <= set(row["enrollments"][0])


def test_single_tracked_entity_by_uid(sandbox):
    uid = fetch(sandbox, "2.41.3", page_size=1).json["trackedEntities"][0]["trackedEntity"]
    one = api(sandbox, f"tracker/trackedEntities/{uid}", {"program": CHILD, "fields": "trackedEntity,attributes"})
    assert one.json["trackedEntity"] == uid
    assert api(sandbox, "tracker/trackedEntities/Xx345678901").status == 404


def test_updated_after_is_read_as_server_local_time(sandbox):
    control(sandbox, "/dhis2/config", {"timezone": "Africa/Douala"})  # UTC+1
    first = fetch(sandbox, "2.41.3", page_size=1).json["trackedEntities"][0]
    again = fetch(sandbox, "2.41.3", page_size=1, after=first["updatedAt"]).json["trackedEntities"][0]
    assert again["trackedEntity"] == first["trackedEntity"]
    truth = control(sandbox, f"/dhis2/trackedEntities/{first['trackedEntity']}", method="GET")
    assert truth["updatedAt"] == first["updatedAt"]


@pytest.mark.parametrize(("version", "status", "size"), [("2.41.3", 200, 25), ("2.42.0", 400, None)])
def test_page_size_above_the_max_limit_is_capped_or_refused(sandbox, version, status, size):
    use_version(sandbox, version, max_page_size=25)
    reply = api(sandbox, "tracker/trackedEntities", {"pageSize": 200, "fields": "trackedEntity"})
    assert reply.status == status
    if size:
        assert len(reply.json["trackedEntities"]) == size == reply.json["pager"]["pageSize"]


# -- faults, latency, size ----------------------------------------------------------------------------

def test_a_fault_bound_to_page_two_breaks_the_sync_midway(sandbox):
    control(sandbox, "/faults", {"provider": "dhis2", "op": "trackedEntities", "kind": "http_503",
                                 "params": {"page": 2}})
    assert fetch(sandbox, "2.41.3", page=1).status == 200
    broken = fetch(sandbox, "2.41.3", page=2)
    assert broken.status == 503
    assert broken.headers["Content-Type"].startswith("text/html")
    assert fetch(sandbox, "2.41.3", page=2).status == 200  # the retry succeeds


@pytest.mark.parametrize(("kind", "status", "json_body"), [("http_500", 500, True), ("http_502", 502, False),
                                                           ("http_429", 429, False)])
def test_http_faults_answer_like_dhis2_or_its_proxy(sandbox, kind, status, json_body):
    control(sandbox, "/faults", {"provider": "dhis2", "op": "trackedEntities", "kind": kind,
                                 "params": {"retry_after": 2}})
    reply = fetch(sandbox, "2.41.3")
    assert reply.status == status
    if json_body:
        assert reply.json["httpStatusCode"] == 500
    else:
        assert "nginx" in reply.raw
    if status == 429:
        assert reply.headers["Retry-After"] == "2"


def test_reset_fault_drops_the_connection(sandbox):
    control(sandbox, "/faults", {"provider": "dhis2", "op": "trackedEntities", "kind": "reset"})
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        fetch(sandbox, "2.41.3")
    assert fetch(sandbox, "2.41.3").status == 200


def test_timeout_fault_holds_the_answer_past_the_client_timeout(sandbox):
    control(sandbox, "/faults", {"provider": "dhis2", "op": "system", "kind": "timeout", "params": {"seconds": 0.6}})
    with pytest.raises((TimeoutError, socket.timeout, OSError)):
        api(sandbox, "system/info", timeout=0.2)
    assert api(sandbox, "system/info").status == 200


def test_slow_ms_adds_latency_to_every_api_call(sandbox):
    control(sandbox, "/dhis2/config", {"slow_ms": 150})
    started = time.perf_counter()
    api(sandbox, "system/ping")
    assert time.perf_counter() - started >= 0.15


def test_large_dataset_regenerates_and_pages_after_a_cursor(sandbox):
    """(Its speed is bench/bench_dhis2.py's to measure, not a wall-clock assertion here.)"""
    control(sandbox, "/dhis2/config", {"size": 20000, "seed": 7})
    assert control(sandbox, "/dhis2/state", method="GET")["counts"]["trackedEntities"] == 20000
    cursor = fetch(sandbox, "2.41.3", page=40, page_size=200).json["trackedEntities"][0]["updatedAt"]
    page = fetch(sandbox, "2.41.3", page_size=200, after=cursor)
    assert page.status == 200 and len(page.json["trackedEntities"]) == 200
    assert all(t["updatedAt"] >= cursor for t in page.json["trackedEntities"])
