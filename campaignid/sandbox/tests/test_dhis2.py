"""DHIS2 emulator over TCP: authentication, system info, current user, metadata, read-only guard.

Helpers at the top are shared with the other test_dhis2_*.py files.
"""

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from campaignid.sandbox.dhis2.auth import DEFAULT_PAT

from .conftest import control

BASIC = "Basic " + base64.b64encode(b"admin:district").decode()
PAT = f"ApiToken {DEFAULT_PAT}"
VERSIONS = ["2.36.13", "2.39.1", "2.41.3"]
SERVER_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$")
UID = re.compile(r"^[A-Za-z][A-Za-z0-9]{10}$")
CHILD = "IpHINAT79UW"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


class Reply:
    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw

    @property
    def json(self):
        return json.loads(self.raw)


def api(sandbox, path, params=None, auth=BASIC, method="GET", body=None, headers=None, timeout=10):
    """One request to {sandbox}/dhis2/api/..., redirects not followed."""
    url = f"{sandbox.url}/dhis2/api/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params, doseq=True)
    hdrs = {"Accept": "application/json", **(headers or {})}
    if auth:
        hdrs["Authorization"] = auth
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return Reply(resp.status, dict(resp.headers), resp.read().decode())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, dict(exc.headers), exc.read().decode())


def use_version(sandbox, version, **extra):
    return control(sandbox, "/dhis2/config", {"version": version, **extra})


# -- authentication ---------------------------------------------------------------------------------

AUTH_CASES = [
    # (version, Authorization header, expected status)
    ("2.36.13", BASIC, 200),
    ("2.39.1", BASIC, 200),
    ("2.41.3", BASIC, 200),
    ("2.39.1", PAT, 200),
    ("2.41.3", PAT, 200),
    ("2.36.13", PAT, 401),  # no personal access tokens before 2.37
    ("2.41.3", "Basic " + base64.b64encode(b"admin:wrong").decode(), 401),
    ("2.36.13", "Basic " + base64.b64encode(b"nobody:district").decode(), 401),
    ("2.41.3", "ApiToken d2pat_" + "A" * 32 + "0000000000", 401),  # bad checksum
    ("2.41.3", "Bearer abc", 401),
]


@pytest.mark.parametrize(("version", "header", "status"), AUTH_CASES)
def test_auth_accepts_basic_and_pat_per_version_and_rejects_bad_credentials(sandbox, version, header, status):
    use_version(sandbox, version)
    reply = api(sandbox, "system/info", auth=header)
    assert reply.status == status
    if status == 401:
        assert reply.json["httpStatus"] == "Unauthorized"
        assert reply.json["httpStatusCode"] == 401
        assert reply.json["status"] == "ERROR"
        assert reply.json["message"]


def test_unknown_but_well_formed_pat_is_refused(sandbox):
    from campaignid.sandbox.dhis2.auth import make_pat

    reply = api(sandbox, "me", auth="ApiToken " + make_pat("Zz9" * 10 + "xy"))
    assert reply.status == 401
    assert "does not exist" in reply.json["message"]


def test_default_pat_is_well_formed_with_a_crc32_checksum():
    from campaignid.sandbox.dhis2.auth import make_pat, pat_checksum_ok

    assert DEFAULT_PAT.startswith("d2pat_")
    assert pat_checksum_ok(DEFAULT_PAT)
    assert make_pat(DEFAULT_PAT[6:-10]) == DEFAULT_PAT
    assert not pat_checksum_ok(DEFAULT_PAT[:-1] + "0")


def test_expired_pat_is_refused_after_the_sandbox_clock_passes_expiry(sandbox):
    now = control(sandbox, "/clock", method="GET")["now"]
    control(sandbox, "/dhis2/config", {"pat_expire": int(now * 1000) + 60_000})
    assert api(sandbox, "me", auth=PAT).status == 200
    control(sandbox, "/clock", {"advance": 120})
    reply = api(sandbox, "me", auth=PAT)
    assert reply.status == 401
    assert "expired" in reply.json["message"]


@pytest.mark.parametrize(("version", "login"), [("2.39.1", "/dhis-web-commons/security/login.action"),
                                                ("2.41.3", "/dhis-web-login/")])
def test_ping_without_credentials_redirects_to_the_login_page(sandbox, version, login):
    use_version(sandbox, version)
    reply = api(sandbox, "system/ping", auth=None)
    assert reply.status == 302
    assert reply.headers["Location"] == f"{sandbox.url}/dhis2{login}"
    page = urllib.request.urlopen(reply.headers["Location"], timeout=5)
    assert page.headers["Content-Type"].startswith("text/html")


def test_ping_answers_pong_with_good_credentials_and_401_with_wrong_ones(sandbox):
    assert api(sandbox, "system/ping").raw == "pong"
    wrong = "Basic " + base64.b64encode(b"admin:nope").decode()
    assert api(sandbox, "system/ping", auth=wrong).status == 401


def test_xhr_without_credentials_gets_401_instead_of_a_redirect(sandbox):
    reply = api(sandbox, "me", auth=None, headers={"X-Requested-With": "XMLHttpRequest"})
    assert reply.status == 401


def test_custom_credentials_from_config_replace_the_demo_ones(sandbox):
    control(sandbox, "/dhis2/config", {"username": "oomus_sync", "password": "S3cret!"})
    assert api(sandbox, "me").status == 401
    reply = api(sandbox, "me", auth="Basic " + base64.b64encode(b"oomus_sync:S3cret!").decode())
    assert reply.status == 200
    assert reply.json["username"] == "oomus_sync"


# -- system info, me ---------------------------------------------------------------------------------

@pytest.mark.parametrize("version", [*VERSIONS, "2.40.4.1", "2.42.0"])
def test_system_info_reports_the_configured_version_and_server_local_date(sandbox, version):
    use_version(sandbox, version)
    info = api(sandbox, "system/info").json
    assert info["version"] == version
    assert re.fullmatch(r"[0-9a-f]{7}", info["revision"])
    assert SERVER_DATE.match(info["serverDate"])  # no offset, milliseconds
    assert SERVER_DATE.match(info["buildTime"])
    assert info["serverTimeZoneId"] == "Africa/Freetown"
    assert info["calendar"] == "iso8601"
    assert info["dateFormat"] == "yyyy-mm-dd"
    assert info["contextPath"] == f"{sandbox.url}/dhis2"
    assert "databaseInfo" not in info  # reduced view for a non-superuser


def test_server_date_follows_the_sandbox_clock_and_time_zone(sandbox):
    before = api(sandbox, "system/info").json["serverDate"]
    control(sandbox, "/clock", {"advance": 86400})
    after = api(sandbox, "system/info").json["serverDate"]
    assert after[:10] > before[:10]
    control(sandbox, "/dhis2/config", {"timezone": "Africa/Douala"})
    info = api(sandbox, "system/info").json
    assert info["serverTimeZoneId"] == "Africa/Douala"
    assert int(info["serverDate"][11:13]) == (int(after[11:13]) + 1) % 24


def test_version_outside_the_emulated_range_is_rejected_by_control(sandbox):
    with pytest.raises(urllib.error.HTTPError) as exc:
        use_version(sandbox, "2.35.0")
    assert exc.value.code == 400


@pytest.mark.parametrize(("version", "credentials"), [("2.36.13", True), ("2.39.1", True), ("2.41.3", False)])
def test_me_shows_the_user_scope_and_read_only_authorities(sandbox, version, credentials):
    use_version(sandbox, version)
    fields = "id,username,organisationUnits[id],teiSearchOrganisationUnits[id],authorities,userCredentials"
    me = api(sandbox, "me", {"fields": fields}).json
    assert me["username"] == "admin"
    assert UID.match(me["id"])
    assert me["organisationUnits"] == [{"id": "ImspTQPwCqd"}]
    assert me["teiSearchOrganisationUnits"] == [{"id": "ImspTQPwCqd"}]
    assert "ALL" not in me["authorities"]
    assert ("userCredentials" in me) is credentials
    assert api(sandbox, "me/authorization/ALL").json is False
    assert api(sandbox, "33/me").json["username"] == "admin"  # versioned API path


# -- metadata ----------------------------------------------------------------------------------------

def test_tracker_programs_are_listed_with_the_registration_filter(sandbox):
    params = {"fields": "id,name,programType,trackedEntityType[id,name]",
              "filter": "programType:eq:WITH_REGISTRATION", "paging": "false"}
    body = api(sandbox, "programs", params).json
    assert "pager" not in body
    programs = {p["id"]: p for p in body["programs"]}
    assert CHILD in programs and "ur1Edk5Oe2n" in programs
    assert "lxAQ7Zs9VYR" not in programs  # event programme, no registration
    assert programs[CHILD] == {"id": CHILD, "name": "Child Programme", "programType": "WITH_REGISTRATION",
                               "trackedEntityType": {"id": "nEenWmSyUEp", "name": "Person"}}
    everything = api(sandbox, "programs", {"paging": "false", "fields": "id"}).json["programs"]
    assert {"id": "lxAQ7Zs9VYR"} in everything


def test_metadata_lists_page_by_default_with_a_pager(sandbox):
    body = api(sandbox, "organisationUnits", {"pageSize": 5, "page": 2}).json
    assert body["pager"]["page"] == 2
    assert body["pager"]["pageSize"] == 5
    assert body["pager"]["total"] == 22
    assert body["pager"]["pageCount"] == 5
    assert "page=3" in body["pager"]["nextPage"]
    assert len(body["organisationUnits"]) == 5
    assert set(body["organisationUnits"][0]) == {"id", "displayName"}  # default list fields


def test_child_programme_attributes_carry_codes_and_value_types(sandbox):
    fields = ("id,name,programTrackedEntityAttributes[mandatory,displayInList,searchable,sortOrder,"
              "trackedEntityAttribute[id,name,code,valueType,unique,optionSet[id,options[code,name]]]]")
    program = api(sandbox, f"programs/{CHILD}", {"fields": fields}).json
    attrs = {a["trackedEntityAttribute"]["id"]: a["trackedEntityAttribute"]
             for a in program["programTrackedEntityAttributes"]}
    assert attrs["w75KJ2mc4zz"]["code"] == "MMD_PER_NAM"
    assert attrs["zDhUuAYrxNC"]["code"] == "MMD_PER_LST"
    assert attrs["gHGyrwKPzej"] == {"id": "gHGyrwKPzej", "name": "Birth date", "code": "MMD_PER_DOB",
                                    "valueType": "DATE", "unique": False}
    assert attrs["P2cwLGskgxn"]["valueType"] == "PHONE_NUMBER"
    assert attrs["lZGmxYbs97q"]["unique"] is True
    assert [o["code"] for o in attrs["cejWyOfXge6"]["optionSet"]["options"]] == ["Male", "Female"]


def test_referenced_objects_collapse_to_ids_without_sub_fields(sandbox):
    program = api(sandbox, f"programs/{CHILD}", {"fields": "trackedEntityType,programStages"}).json
    assert program["trackedEntityType"] == {"id": "nEenWmSyUEp"}
    assert {"id": "A03MvHHogjR"} in program["programStages"]
    everything = api(sandbox, f"programs/{CHILD}.json").json
    assert everything["programTrackedEntityAttributes"][0]["trackedEntityAttribute"] == {"id": "w75KJ2mc4zz"}


@pytest.mark.parametrize(("path", "status"), [("programs/AAAAAAAAAAA", 404), ("organisationUnits/Xx1234567890", 404),
                                              ("nothingHere", 404)])
def test_unknown_objects_and_paths_answer_404_in_dhis2_shape(sandbox, path, status):
    reply = api(sandbox, path)
    assert reply.status == status
    assert reply.json["httpStatusCode"] == status


def test_org_unit_tree_has_valid_uids_levels_and_paths(sandbox):
    units = api(sandbox, "organisationUnits", {"paging": "false", "fields": "id,name,level,path,parent[id]"}).json
    by_id = {u["id"]: u for u in units["organisationUnits"]}
    assert by_id["ImspTQPwCqd"]["level"] == 1 and "parent" not in by_id["ImspTQPwCqd"]
    assert by_id["O6uvpzGd5pu"]["name"] == "Bo"
    assert by_id["DiszpKrYNg8"]["name"] == "Ngelehun CHC"
    assert by_id["DiszpKrYNg8"]["path"].startswith("/ImspTQPwCqd/O6uvpzGd5pu/")
    assert all(UID.match(uid) for uid in by_id)
    facilities = api(sandbox, "organisationUnits", {"level": 4, "paging": "false"}).json["organisationUnits"]
    assert len(facilities) == 12


def test_tracked_entity_attributes_endpoint_lists_the_person_attributes(sandbox):
    body = api(sandbox, "trackedEntityAttributes", {"fields": "id,code,valueType", "paging": "false"}).json
    by_code = {a["code"]: a for a in body["trackedEntityAttributes"]}
    assert by_code["MMD_PER_PHO"] == {"id": "P2cwLGskgxn", "code": "MMD_PER_PHO", "valueType": "PHONE_NUMBER"}


# -- read-only guard ---------------------------------------------------------------------------------

WRITES = [("POST", "tracker", {"trackedEntities": []}), ("POST", "trackedEntityInstances", {}),
          ("PUT", "tracker/trackedEntities/AbCdEfGhIj1", {}), ("DELETE", "trackedEntityInstances/AbCdEfGhIj1", None),
          ("PATCH", "programs/IpHINAT79UW", [])]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_writes_are_refused_and_counted(sandbox, method, path, body):
    assert control(sandbox, "/dhis2/state", method="GET")["write_attempts"] == 0
    reply = api(sandbox, path, method=method, body=body)
    assert reply.status == 403
    assert reply.json["httpStatus"] == "Forbidden"
    state = control(sandbox, "/dhis2/state", method="GET")
    assert state["write_attempts"] == 1
    assert state["writes"][0]["method"] == method


def test_reads_leave_the_write_counter_at_zero(sandbox):
    api(sandbox, "system/info")
    api(sandbox, "tracker/trackedEntities", {"pageSize": 5})
    state = control(sandbox, "/dhis2/state", method="GET")
    assert state["write_attempts"] == 0
    assert state["served"]["trackedEntities"] == 1
