"""Fixtures of the DHIS2 importer tests: the sandbox DHIS2 at a chosen version, a connected programme."""

from __future__ import annotations

import urllib.request

import pytest

from campaignid.sandbox.testing import control

VERSIONS = ["2.36.13", "2.39.1", "2.41.3"]
CHILD = "IpHINAT79UW"
PAT = "d2pat_eSOEuGC4lWKcUCPH3RiXf7rVyDltX5PB0098542362"


@pytest.fixture(autouse=True)
def fast_dhis2(settings):
    """Small pages (several per run) and quick retries."""
    settings.DHIS2_PAGE_SIZE = 50
    settings.DHIS2_MAX_ATTEMPTS = 3
    settings.DHIS2_BACKOFF_SECONDS = 0.01
    settings.DHIS2_BACKOFF_MAX_SECONDS = 0.05
    settings.DHIS2_TIMEOUT_SECONDS = 5
    settings.DHIS2_TEST_TIMEOUT_SECONDS = 3


def dhis2_url(sandbox) -> str:
    return f"{sandbox.url}/dhis2"


def set_version(sandbox, version: str) -> dict:
    return control(sandbox, "/dhis2/config", {"version": version})


def state(sandbox) -> dict:
    return control(sandbox, "/dhis2/state", method="GET")


def ground_truth(sandbox, uid: str) -> dict:
    with urllib.request.urlopen(f"{sandbox.url}/control/dhis2/trackedEntities/{uid}", timeout=10) as resp:
        import json

        return json.loads(resp.read())


def fault(sandbox, kind: str, op: str = "trackedEntities", count: int = 1, **params) -> None:
    control(sandbox, "/faults", {"provider": "dhis2", "op": op, "kind": kind, "count": count, "params": params})


def settle(seconds: float) -> None:
    """Let the sandbox finish answering requests it was told to delay, so they do not land in the next test."""
    import time

    time.sleep(seconds)


def served(sandbox, path_part: str) -> list[dict]:
    return [r for r in control(sandbox, "/requests?provider=dhis2", method="GET") if path_part in r["path"]]


@pytest.fixture
def connect(db, sandbox, make_org):
    """connect(version, slug=…, **connection) → (org, program, connection) pointed at the sandbox DHIS2."""
    from campaignid.dhis2.connections import ConnectionInput, save

    def make(version: str = "2.41.3", slug: str = "org-a", prefix: str = "AAA-VAC", username: str = "admin",
             password: str = "district", token: str = "", **program_kw):
        set_version(sandbox, version)
        org, program = make_org(slug=slug, prefix=prefix, uid=CHILD, **program_kw)
        conn = save(org, ConnectionInput(dhis2_url(sandbox), "" if token else username,
                                         "" if token else password, token))
        return org, program, conn

    return make


@pytest.fixture
def queue_inline(settings):
    huey = settings.HUEY
    huey.immediate = True
    yield huey
    huey.immediate = False
