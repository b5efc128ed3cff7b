"""The DHIS2 client: read-only guard, errors, retries, version profiles."""

import pytest

from campaignid.dhis2 import versions
from campaignid.dhis2.client import (
    AuthFailed,
    BlockingClient,
    Credentials,
    Forbidden,
    ReadOnlyViolation,
    ServerError,
    Unreachable,
)
from campaignid.dhis2.conf import Limits
from campaignid.lib.testing import free_port

from .conftest import dhis2_url, fault, served, set_version, settle, state

FAST = Limits(timeout=2, connect_timeout=1, max_attempts=3, backoff=0.01, backoff_max=0.05)


def client(sandbox, password="district"):
    return BlockingClient(Credentials(dhis2_url(sandbox), "admin", password), FAST)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "post", "HEAD", "OPTIONS"])
def test_client_refuses_every_method_but_get_before_sending_anything(sandbox, method):
    with client(sandbox) as c:
        with pytest.raises(ReadOnlyViolation):
            c.request(method, "api/tracker", {"importStrategy": "CREATE"})
        assert c.request("GET", "api/system/info")["version"]
    assert state(sandbox)["write_attempts"] == 0
    assert {r["method"] for r in served(sandbox, "/api/")} == {"GET"}


def test_async_client_offers_no_write_method():
    from campaignid.dhis2.client import Dhis2Client

    assert not any(hasattr(Dhis2Client, m) for m in ("post", "put", "patch", "delete"))


def test_wrong_password_is_an_auth_failure_without_retry(sandbox):
    with client(sandbox, "nope") as c, pytest.raises(AuthFailed) as err:
        c.get("api/system/info")
    assert err.value.status == 401 and len(served(sandbox, "/system/info")) == 1


def test_missing_authority_is_forbidden_not_retried(sandbox):
    set_version(sandbox, "2.41.3")
    with client(sandbox) as c, pytest.raises(Forbidden) as err:
        c.get("api/tracker/trackedEntities", {"program": "IpHINAT79UW", "orgUnitMode": "ALL"})
    assert err.value.status == 403 and "Tracker: export" in err.value.message
    assert len(served(sandbox, "/trackedEntities")) == 1


def test_server_errors_are_retried_then_raised(sandbox):
    fault(sandbox, "http_503", op="system", count=5)
    with client(sandbox) as c, pytest.raises(ServerError) as err:
        c.get("api/system/info")
    assert err.value.status == 503 and len(served(sandbox, "/system/info")) == 3


def test_a_transient_429_is_retried(sandbox):
    fault(sandbox, "http_429", op="system", count=1, retry_after=0)
    with client(sandbox) as c:
        assert c.get("api/system/info")["version"]
    assert len(served(sandbox, "/system/info")) == 2


def test_closed_port_is_unreachable():
    creds = Credentials(f"http://127.0.0.1:{free_port()}/dhis2", "admin", "district")
    with BlockingClient(creds, FAST) as c, pytest.raises(Unreachable) as err:
        c.get("api/system/info")
    assert "Cannot reach DHIS2" in err.value.message


def test_slow_answer_times_out_within_the_bound(sandbox):
    import time

    fault(sandbox, "timeout", op="system", count=1, seconds=1)
    limits = Limits(timeout=0.3, connect_timeout=0.3, max_attempts=1, backoff=0, backoff_max=0)
    started = time.monotonic()
    with BlockingClient(Credentials(dhis2_url(sandbox), "admin", "district"), limits) as c:
        with pytest.raises(Unreachable, match="0.3 s"):
            c.get("api/system/info")
    assert time.monotonic() - started < 0.9
    settle(1)


@pytest.mark.parametrize("text, expected", [
    ("2.41.3", (2, 41)), ("2.40.4.1", (2, 40)), ("2.39-SNAPSHOT", (2, 39)), ("2.36.13", (2, 36)),
])
def test_versions_are_parsed_defensively(text, expected):
    assert versions.parse_version(text) == expected


@pytest.mark.parametrize("version, name, list_key, ou, pat", [
    ("2.36.13", "legacy", "trackedEntityInstances", "ou", False),
    ("2.37.9", "legacy", "trackedEntityInstances", "ou", True),
    ("2.38.1", "tracker-2.38", "instances", "orgUnit", True),
    ("2.40.4.1", "tracker-2.38", "instances", "orgUnit", True),
    ("2.41.3", "tracker-2.41", "trackedEntities", "orgUnits", True),
    ("2.42.1", "tracker-2.41", "trackedEntities", "orgUnits", True),
])
def test_each_version_gets_its_api_generation(version, name, list_key, ou, pat):
    p = versions.profile_for(version)
    assert (p.name, p.list_key, p.org_unit_param, p.pat) == (name, list_key, ou, pat)
    query = p.query("IpHINAT79UW", ["A", "B"], 2, 100, "2026-01-01T00:00:00.000")
    assert query["order"].endswith(":asc") and "paging" not in query and "skipPaging" not in query
    assert query[ou] == ("A,B" if name == "tracker-2.41" else "A;B")
    assert query[p.updated_param] == "2026-01-01T00:00:00.000"


def test_versions_before_2_36_are_refused():
    with pytest.raises(versions.UnsupportedVersion, match="2.36"):
        versions.profile_for("2.35.14")


def test_blocking_client_also_works_inside_a_running_event_loop(sandbox):
    import asyncio

    async def inside():
        with client(sandbox) as c:
            return c.get("api/system/info")["version"]

    assert asyncio.run(inside())
