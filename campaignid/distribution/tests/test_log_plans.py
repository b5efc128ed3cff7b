"""The delivery-log filters that span an organisation's programmes find their rows through an index, whatever
the size of the campaign (a filter read by scanning costs nothing in a test and 240 ms at a million)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection

from campaignid.distribution import logs
from campaignid.programs.models import Beneficiary

pytestmark = pytest.mark.django_db


def _plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # A test table is small enough to be scanned, and an empty delivery table makes "walk the deliveries
            # newest first, fetch each one's beneficiary" look free: leave the planner the plans a million-row
            # campaign gets, where the beneficiary is found first.
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("SET LOCAL enable_nestloop = off")
            cur.execute("EXPLAIN " + sql, params)
        else:
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(row[-1]) for row in cur.fetchall())


@pytest.mark.parametrize("query, index", [
    # the logs' "beneficiary" filter: any programme of the organisation
    (lambda org, program: logs.filtered(SimpleNamespace(organisation=org, program_ids=None),
                                        {"beneficiary": "AAA-1"})
     .order_by("-created_at", "-id")[:101], "benef_enrollment"),
    # the reach refresh, every minute: the programme's beneficiaries changed since the last one
    (lambda org, program: Beneficiary.objects.filter(program=program, updated_at__gte="2026-01-01T00:00:00Z")
     .values_list("id", flat=True),
     "benef_program_updated"),
])
def test_lookups_that_grow_with_the_campaign_use_an_index(make_org, make_beneficiary, query, index):
    org, program = make_org()
    make_beneficiary(program)
    assert index in _plan(query(org, program))
