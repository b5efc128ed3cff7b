"""Buffered status intake: store verified callbacks with one INSERT, apply them in bulk in a worker.

A callback may arrive before its delivery's provider message ID is saved (the provider answers the send
and calls back within milliseconds); such rows stay in the inbox and are tried again for
``UNMATCHED_TTL`` before being dropped with a log line.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from campaignid.channels.base import StatusUpdate
from campaignid.channels.events import Billing, ContactRef

from .intake import record_updates
from .models import StatusInbox

log = logging.getLogger("campaignid.distribution.inbox")
APPLY_CHUNK = 2000
UNMATCHED_TTL = timedelta(minutes=10)
COLUMNS = ("channel", "provider_message_id", "delivery_ref", "status", "at", "error_code", "error_category",
           "error_detail", "details", "received_at", "tries", "organisations")


def store(kind: str, updates: list[StatusUpdate], organisations: list[int] | None = None) -> None:
    """One prepared INSERT for the whole callback (no ORM query building on the hot path)."""
    if not updates:
        return
    sql, prepared = _insert_sql()
    now = timezone.now()
    rows = []
    for u in updates:
        values = (kind, u.provider_message_id, u.delivery_id, u.status, u.at, u.error_code, u.error_category,
                  u.error_detail[:500], json.dumps(_packed(u)), now, 0,
                  None if organisations is None else json.dumps(organisations))
        rows.append([f.get_db_prep_save(v, connection) if f is not None else v
                     for f, v in zip(prepared, values, strict=True)])
    _group_commit(sql, rows)


class _Pending:
    __slots__ = ("rows", "done", "error")

    def __init__(self, rows: list) -> None:
        self.rows, self.done, self.error = rows, False, None


_queue: list[_Pending] = []
_queue_lock = threading.Lock()
_writer = threading.Lock()


def _group_commit(sql: str, rows: list) -> None:
    """Write the callback in one transaction together with those other threads of this process received
    meanwhile: while one thread holds the database's write lock, the next callbacks queue up and the next
    thread to get the lock writes them all (one commit, one wait for SQLite's single writer, instead of
    one each). Every caller returns only once its own rows are committed, or raises what the write raised.

    On a database with concurrent writers (PostgreSQL) each request writes its own rows as one multi-row
    INSERT in autocommit: one round trip, atomic by itself, no BEGIN/COMMIT and no wait for other threads."""
    if connection.in_atomic_block:  # the caller's own transaction decides: write only its rows, in it
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        return
    if connection.vendor != "sqlite":
        values = sql[sql.index("VALUES ") + 7:]
        with connection.cursor() as cursor:
            cursor.execute(sql + (", " + values) * (len(rows) - 1), [v for row in rows for v in row])
        return
    mine = _Pending(rows)
    with _queue_lock:
        _queue.append(mine)
    with _writer:
        if not mine.done:
            with _queue_lock:
                group = _queue[:]
                _queue.clear()
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.executemany(sql, [row for pending in group for row in pending.rows])
            except Exception as exc:  # every caller of the group answers with the failure
                for pending in group:
                    pending.error = exc
            for pending in group:
                pending.done = True
    if mine.error is not None:
        raise mine.error


_SQL: dict[str, tuple[str, list]] = {}


def _insert_sql() -> tuple[str, list]:
    """The INSERT and, per column, the field whose value the database needs converted (the dates; JSON is
    already text), built once per database vendor."""
    if connection.vendor not in _SQL:
        fields = [StatusInbox._meta.get_field(c) for c in COLUMNS]
        qn = connection.ops.quote_name
        sql = (f"INSERT INTO {qn(StatusInbox._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608
               f"VALUES ({', '.join(['%s'] * len(fields))})")
        _SQL[connection.vendor] = (sql, [f if f.get_internal_type() == "DateTimeField" else None for f in fields])
    return _SQL[connection.vendor]


def _packed(u: StatusUpdate) -> dict:
    """``details`` plus the account, contact and billing of the update, under keys the event never shows."""
    details = dict(u.details)
    if u.account:
        details["_account"] = u.account
    if u.contact:
        details["_contact"] = [u.contact.phone, u.contact.user_id, u.contact.parent_user_id]
    if u.billing is not None:
        details["_billing"] = [u.billing.category, u.billing.billable, u.billing.reason]
    return details


def _update(row: StatusInbox) -> StatusUpdate:
    details = dict(row.details or {})
    account, contact, billing = (details.pop(k, None) for k in ("_account", "_contact", "_billing"))
    return StatusUpdate(provider_message_id=row.provider_message_id, status=row.status, at=row.at,
                        delivery_id=row.delivery_ref, error_code=row.error_code, error_category=row.error_category,
                        error_detail=row.error_detail, details=details, account=account or "",
                        contact=ContactRef(*contact) if contact else None,
                        billing=Billing(*billing) if billing else None)


def apply(limit: int = APPLY_CHUNK) -> int:
    """Apply up to ``limit`` stored callbacks; returns how many left the inbox."""
    with transaction.atomic():
        qs = StatusInbox.objects.order_by("tries", "id")  # callbacks still waiting for their delivery go last
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        rows = list(qs[:limit])
        if not rows:
            return 0
        groups: dict[tuple, list[StatusInbox]] = defaultdict(list)
        for row in rows:
            scope = None if row.organisations is None else tuple(row.organisations)
            groups[(row.channel, scope)].append(row)
        unmatched: set[int] = set()
        for (kind, scope), items in groups.items():
            missing = record_updates(kind, [_update(r) for r in items], report_unmatched=True,
                                     organisations=None if scope is None else list(scope))
            unmatched.update(items[i].pk for i in missing)
        _settle(rows, unmatched)
    return len(rows) - len(unmatched)


def _settle(rows: list[StatusInbox], unmatched: set[int]) -> None:
    cutoff = timezone.now() - UNMATCHED_TTL
    done = [r.pk for r in rows if r.pk not in unmatched]
    expired = [r.pk for r in rows if r.pk in unmatched and r.received_at < cutoff]
    if expired:
        log.warning("%d status callbacks matched no delivery for %s and were dropped", len(expired), UNMATCHED_TTL)
    StatusInbox.objects.filter(pk__in=done + expired).delete()
    StatusInbox.objects.filter(pk__in=unmatched - set(expired)).update(tries=F("tries") + 1)


def ingest(kind: str, updates: list[StatusUpdate], organisations: list[int] | None = None) -> None:
    """What the webhook view calls: inline application when configured (or in the inline queue mode),
    otherwise store and let a worker apply soon. ``organisations`` limits whose deliveries may change."""
    if settings.STATUS_INTAKE == "inline" or settings.HUEY.immediate:
        record_updates(kind, updates, organisations=organisations)
        return
    store(kind, updates, organisations)
    from .tasks import apply_statuses_soon

    apply_statuses_soon()


def backlog() -> int:
    return StatusInbox.objects.count()
