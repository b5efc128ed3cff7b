"""PostgreSQL: vacuum and analyze the delivery table after 2 % of its rows changed, not PostgreSQL's 20 %.

Each delivery is rewritten three or four times (claimed, handed over, sent, delivered), and a status change
touches an indexed column, so every step leaves a dead row version. With the default 20 %, a table of a
million deliveries holds up to 200,000 dead versions before a vacuum, and during a campaign that grows it
by 10 % an hour its statistics describe a table a tenth of its size: the log queries then sort every
matching row. SQLite needs nothing (no row versions, and its planner reads no statistics here).
"""

from django.db import migrations

TABLES = ("distribution_delivery", "distribution_deliveryevent")
SETTINGS = "autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02"


def tune(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} SET ({SETTINGS})")


def untune(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} RESET (autovacuum_vacuum_scale_factor, "
                              "autovacuum_analyze_scale_factor)")


class Migration(migrations.Migration):

    dependencies = [("distribution", "0017_reach_parts")]

    operations = [migrations.RunPython(tune, untune)]
