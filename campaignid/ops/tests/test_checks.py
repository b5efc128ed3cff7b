"""`campaignid check --database default` warns when the PostgreSQL server runs without autovacuum."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection

pytestmark = pytest.mark.django_db


def _check_output() -> str:
    out = StringIO()
    try:
        call_command("check", databases=["default"], stdout=out, stderr=out)
    except SystemCheckError as exc:  # an error elsewhere would hide the warnings: show it
        return str(exc)
    return out.getvalue()


def test_the_check_says_when_postgres_autovacuum_is_off():
    if connection.vendor != "postgresql":
        assert "campaignid.W400" not in _check_output()  # nothing to vacuum in SQLite
        return
    with connection.cursor() as cur:
        cur.execute("SHOW autovacuum")
        server = cur.fetchone()[0]
    output = _check_output()
    if server == "on":
        assert "campaignid.W400" not in output
    else:  # test servers often turn it off, as CI's does
        assert "campaignid.W400" in output and "autovacuum is off" in output
