"""Schemathesis over ``/api/v1`` and ``/dhis2/…``: bounded generated requests (valid and invalid, 6 per
operation and mode, deterministic), no 5xx, every status and body as the OpenAPI document declares them.
Fast enough for every CI run (about 30 s on one core)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from campaignid.wsgi import application

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# The coverage phase (every boundary value of every parameter) takes about twice as long as the rest:
# off in every run, on with SECURITY_SUITE_COVERAGE=1 for a deeper look before a release.
schema.config.phases.coverage.enabled = os.environ.get("SECURITY_SUITE_COVERAGE") == "1"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def world(request, make_org, make_beneficiary, make_token, sandbox_settings, monkeypatch):
    """An organisation with a programme and people, an admin token, channels on the sandboxes, and DHIS2
    reads that give up fast (generated URLs point nowhere)."""
    for name, value in {"DHIS2_TEST_TIMEOUT_SECONDS": "1", "DHIS2_TIMEOUT_SECONDS": "1", "DHIS2_MAX_ATTEMPTS": "1",
                        "DHIS2_CONNECT_TIMEOUT_SECONDS": "1"}.items():
        monkeypatch.setenv(name, value)
    # Requests go to the WSGI application directly: as Django's test client does, keep the test's connection
    # open between requests (its transaction is rolled back after the test).
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
        request.addfinalizer(lambda signal=signal: signal.connect(close_old_connections))
    org, program = make_org(options={"quiet_hours": None})
    for i in range(3):
        make_beneficiary(program, enrollment_id=f"ENR{i}")
    return make_token(org)


@schema.include(path_regex=r"^/(api/v1|dhis2)/").parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_never_answers_5xx_and_matches_its_schema(case, world):
    case.call_and_validate(headers={"Authorization": f"Bearer {world}"}, checks=CHECKS)
