"""Delivery logs: one filter for the API, the dashboard and the CSV export; keyset pagination.

Rows carry beneficiary IDs and masked numbers only, never names or full phone numbers.
"""

from __future__ import annotations

import base64
import csv
import itertools
from collections.abc import Iterator
from datetime import datetime

from django.db import connection
from django.db.models import Case, CharField, F, Func, Q, QuerySet, Value, When
from django.utils.dateparse import parse_datetime

from .models import Delivery

COLUMNS = [
    ("id", "id"), ("created_at", "created_at"), ("sent_at", "sent_at"), ("delivered_at", "delivered_at"),
    ("read_at", "read_at"), ("failed_at", "failed_at"), ("channel", "channel"), ("status", "status"),
    ("recipient", "recipient_masked"), ("provider_message_id", "provider_message_id"),
    ("programme", "program__dhis2_program_uid"), ("campaign", "program__code_prefix"),
    ("enrollment_id", "beneficiary__enrollment_id"), ("card_code", "card__code"), ("batch_id", "batch_id"),
    ("attempts", "attempts"), ("error_code", "error_code"), ("error_category", "error_category"),
    ("channel_status", "channel_status"), ("carried_by", "carried_by_id"),
]
# What the status means on the channel: a printed card is "printed", then "handed over" at the session.
CHANNEL_STATUS = Case(When(channel="print", status="sent", then=Value("printed")),
                      When(channel="print", status__in=("delivered", "read"), then=Value("handed_over")),
                      default=F("status"), output_field=CharField())


class FilterError(ValueError):
    pass


def _when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value) or (parse_datetime(value + "T00:00:00Z") if len(value) == 10 else None)
    if parsed is None:
        raise FilterError(f"{name} must be an ISO-8601 date or date-time, not {value!r}.")
    return parsed


def filtered(scope, f: dict) -> QuerySet[Delivery]:
    """Deliveries of the caller's scope matching channel, status, date range, programme/campaign,
    beneficiary (enrollment) ID and batch."""
    qs = Delivery.objects.filter(organisation=scope.organisation)  # index (organisation, created_at, id)
    if scope.program_ids is not None:
        qs = qs.filter(program_id__in=scope.program_ids)
    if f.get("channel"):
        qs = qs.filter(channel=f["channel"])
    if f.get("status"):
        qs = qs.filter(status=f["status"])
    if f.get("programme"):
        qs = qs.filter(Q(program__dhis2_program_uid=f["programme"]) | Q(program__code_prefix=f["programme"]))
    if f.get("beneficiary"):
        qs = qs.filter(beneficiary__enrollment_id=f["beneficiary"])
    if f.get("batch"):
        qs = qs.filter(batch_id=f["batch"])
    start, end = _when(f.get("date_from"), "date_from"), _when(f.get("date_to"), "date_to")
    if start:
        qs = qs.filter(created_at__gte=start)
    if end:
        qs = qs.filter(created_at__lte=end)
    return qs


def encode_cursor(row: Delivery) -> str:
    return base64.urlsafe_b64encode(f"{row.created_at.isoformat()}|{row.pk}".encode()).decode().rstrip("=")


def after_cursor(qs: QuerySet[Delivery], cursor: str | None) -> QuerySet[Delivery]:
    if not cursor:
        return qs
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, pk = raw.rsplit("|", 1)
        created_at, pk = datetime.fromisoformat(created), int(pk)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FilterError("cursor is not valid; use the next_cursor of a previous page.") from exc
    return before(qs, created_at, pk)


def before(qs: QuerySet[Delivery], created_at: datetime, pk: int) -> QuerySet[Delivery]:
    """Rows after this one in (created_at, id) descending order, as a row-value comparison so the
    database walks the (organisation, created_at, id) index instead of filtering an OR."""
    table = connection.ops.quote_name(Delivery._meta.db_table)
    field = Delivery._meta.get_field("created_at")
    return qs.extra(where=[f"({table}.created_at, {table}.id) < (%s, %s)"],  # noqa: S610 - fixed SQL, bound values
                    params=[field.get_db_prep_value(created_at, connection), pk])


def page(qs: QuerySet[Delivery], cursor: str | None, limit: int) -> tuple[list[Delivery], str | None]:
    rows = list(after_cursor(qs, cursor).select_related("program", "beneficiary", "card")
                .order_by("-created_at", "-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1]) if more and rows else None


class _Echo:
    def write(self, value: str) -> str:
        return value


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def csv_rows(qs: QuerySet[Delivery], chunk: int = 2000, delimiter: str = ",") -> Iterator[str]:
    """The filtered rows as CSV lines, read in keyset chunks: memory stays flat for millions of rows."""
    writer = csv.writer(_Echo(), delimiter=delimiter)
    yield writer.writerow([name for name, _ in COLUMNS])
    fields = [f for _, f in COLUMNS]
    qs = qs.annotate(channel_status=CHANNEL_STATUS).order_by("-created_at", "-id")
    last = None
    while True:
        part = qs
        if last is not None:
            part = before(part, last[0], last[1])
        rows = list(part.values_list(*fields)[:chunk])
        if not rows:
            return
        yield "".join(writer.writerow([_fmt(v) for v in row]) for row in rows)
        last = (rows[-1][1], rows[-1][0])


ISO_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'  # PostgreSQL to_char, session time zone is UTC
TIMESTAMPS = {"created_at", "sent_at", "delivered_at", "read_at", "failed_at"}


def csv_stream(qs: QuerySet[Delivery], excel: bool = False) -> Iterator[str]:
    """The export: PostgreSQL streams it with COPY (C speed, constant memory); other databases go through
    ``csv_rows``. Same columns, same order, same filters. ``excel``: what French Excel opens as columns
    (a UTF-8 byte order mark, ``;`` between fields)."""
    delimiter = ";" if excel else ","
    rows = _copy_rows(qs, delimiter) if connection.vendor == "postgresql" else csv_rows(qs, delimiter=delimiter)
    if not excel:
        return rows
    return itertools.chain(["\ufeff"], rows)


def _copy_rows(qs: QuerySet[Delivery], delimiter: str = ",") -> Iterator[str]:
    iso = {f"{f}__iso": Func(F(f), Value(ISO_FORMAT), function="to_char", output_field=CharField())
           for f in TIMESTAMPS}
    fields = [f"{f}__iso" if f in TIMESTAMPS else f for _, f in COLUMNS]
    values = qs.annotate(**iso, channel_status=CHANNEL_STATUS).order_by("-created_at", "-id").values_list(*fields)
    sql, params = values.query.sql_with_params()
    yield csv.writer(_Echo(), delimiter=delimiter).writerow([name for name, _ in COLUMNS])
    options = "FORMAT csv" + (", DELIMITER ';'" if delimiter == ";" else "")
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH ({options})",
                                                           params) as copy:
        for block in copy:
            yield bytes(block).decode()
