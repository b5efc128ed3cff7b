"""Insert many new model rows with one prepared ``INSERT`` through ``executemany``.

``QuerySet.bulk_create`` compiles every value of every row through the SQL compiler (``field_as_sql``,
``prepare_value``, ``pre_save_val``): profiled in a batch expansion, that was a third of the worker's time.
Here the statement is built once per model and database, and each column's value goes through the one
conversion its type needs (dates to the database's form, JSON through its field); the rest is passed as
it is. No primary keys come back: callers that need them read the rows back by a unique column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from django.db import connection, models

_PLANS: dict[tuple[str, type[models.Model]], tuple[str, list[tuple[models.Field, Callable | None, bool]]]] = {}
_AS_IS = ("CharField", "TextField", "BooleanField", "IntegerField", "BigIntegerField", "PositiveIntegerField",
          "PositiveSmallIntegerField", "SmallIntegerField", "ForeignKey", "OneToOneField")


def _plan(model: type[models.Model]):
    key = (connection.vendor, model)
    if key not in _PLANS:
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        qn = connection.ops.quote_name
        sql = (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608
               f"VALUES ({', '.join(['%s'] * len(fields))})")
        columns = []
        for f in fields:
            kind = f.get_internal_type()
            auto = bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
            if kind in _AS_IS:
                convert = None
            elif kind == "DateTimeField":
                convert = connection.ops.adapt_datetimefield_value
            else:
                convert = (lambda field: lambda value: field.get_db_prep_save(value, connection))(f)
            columns.append((f, convert, auto))
        _PLANS[key] = (sql, columns)
    return _PLANS[key]


def insert(objs: Sequence[models.Model] | Iterable[models.Model]) -> int:
    """Insert unsaved instances of one model (defaults and ``auto_now`` applied as Django would)."""
    objs = list(objs)
    if not objs:
        return 0
    sql, columns = _plan(type(objs[0]))
    params = []
    for obj in objs:
        row = []
        for f, convert, auto in columns:
            value = f.pre_save(obj, True) if auto else getattr(obj, f.attname)
            row.append(value if convert is None or value is None else convert(value))
        params.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(params)
