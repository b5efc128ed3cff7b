"""Bulk row updates where every row has its own values (provider message IDs, timestamps).

Django's ``bulk_update`` builds one ``CASE WHEN`` per field over the whole batch, which SQLite evaluates
in time proportional to rows × rows; an ``executemany`` of a primary-key UPDATE is linear on SQLite and
pipelined by psycopg on PostgreSQL (measured in bench/bench_pipeline.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def save_fields(rows: Sequence[models.Model], fields: Sequence[str]) -> None:
    if not rows:
        return
    meta = rows[0]._meta
    qn = connection.ops.quote_name
    model_fields = [meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{qn(f.column)} = %s" for f in model_fields)
    sql = f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {qn(meta.pk.column)} = %s"  # noqa: S608 - names from the model
    params = [[f.get_db_prep_save(getattr(row, f.attname), connection) for f in model_fields] + [row.pk]
              for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
