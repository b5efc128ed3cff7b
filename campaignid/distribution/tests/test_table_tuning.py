"""The delivery and event tables are vacuumed and analyzed after 2 % of their rows changed (migration 0018):
with PostgreSQL's 20 %, a campaign growing the table by 10 % an hour plans its log queries on statistics
of a table a tenth of its size."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from campaignid.lib.testing import IN_CI

pytestmark = pytest.mark.django_db


def test_delivery_tables_are_vacuumed_and_analyzed_after_two_percent_changed():
    if connection.vendor != "postgresql":
        message = "table storage options are PostgreSQL's: runs in the PostgreSQL + Redis pass"
        if IN_CI and os.environ.get("DATABASE_URL", "").startswith("postgres"):
            pytest.fail(message)
        pytest.skip(message)
    with connection.cursor() as cur:
        cur.execute("SELECT relname, reloptions FROM pg_class WHERE relname IN "
                    "('distribution_delivery', 'distribution_deliveryevent') ORDER BY relname")
        options = {name: sorted(opts or []) for name, opts in cur.fetchall()}
    expected = ["autovacuum_analyze_scale_factor=0.02", "autovacuum_vacuum_scale_factor=0.02"]
    assert options == {"distribution_delivery": expected, "distribution_deliveryevent": expected}
