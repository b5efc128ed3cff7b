"""`campaignid check --database default`: warn when PostgreSQL runs without autovacuum.

Every delivery is rewritten three or four times during a campaign. Without autovacuum the dead row versions
are never reclaimed (the tables grow to about three times their size) and the statistics are never refreshed,
so the planner keeps the plan of an empty table: the log queries of a million-delivery campaign then sort
every matching row (seconds instead of milliseconds, docs/PERFORMANCE.md).
"""

from __future__ import annotations

from django.core import checks


@checks.register(checks.Tags.database)
def postgres_autovacuum_on(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    from django.db import DatabaseError, connections

    problems: list[checks.CheckMessage] = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        try:
            with connection.cursor() as cur:
                cur.execute("SHOW autovacuum")
                value = cur.fetchone()[0]
        except DatabaseError:
            continue
        if value != "on":
            problems.append(checks.Warning(
                f"autovacuum is {value} on the PostgreSQL server of database '{alias}'.",
                hint="Turn it on (ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf()): without it the "
                     "delivery tables keep every old row version and their statistics, and log queries slow "
                     "down as a campaign grows (docs/OPERATIONS.md, Deploying).",
                id="campaignid.W400"))
    return problems
