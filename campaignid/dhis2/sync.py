"""One sync run of one programme: read the server's version and clock, page through the tracked
entities updated since the cursor (oldest first), upsert each page, record the run.

Cursor: the server's ``serverDate`` captured before the first page, minus ``DHIS2_SYNC_OVERLAP_MINUTES``,
saved only when every page was read. A run stopped mid-way keeps the previous cursor (moved forward only
past pages fully imported, when the server returned them in order), so the next run resumes there;
upserts by enrollment make the overlap harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.dispatch import Signal
from django.utils import timezone

from campaignid.programs import org_units as ou_tree

from . import conf, connections, locks, mapping, metadata, versions
from .client import BlockingClient, Dhis2Error
from .models import ProgrammeSync, SyncRun
from .parse import Parser, missing_org_unit_names
from .upsert import Outcome, upsert

log = logging.getLogger("campaignid.dhis2.sync")
sync_finished = Signal()  # sent with run=SyncRun after every finished run (e.g. to generate cards)
Progress = Callable[[SyncRun], None]
COUNTERS = ["pages", "fetched", "created", "updated", "skipped", "errors", "phones_unparsable", "total"]


class LockLost(RuntimeError):
    code = "lock_lost"


@dataclass
class Context:
    run: SyncRun
    client: BlockingClient
    profile: versions.Profile
    server_date: str
    parser: Parser
    org_units: list[str]
    cursor: str
    done_until: str = ""
    upsert_skipped: int = 0
    names: dict[str, str] = field(default_factory=dict)
    units_done: set[str] = field(default_factory=set)


def shift(stamp: str, minutes: float) -> str:
    """A DHIS2 server timestamp moved by some minutes, in DHIS2's own format (no offset)."""
    moved = datetime.fromisoformat(stamp) + timedelta(minutes=minutes)
    return moved.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def _after(a: str, b: str) -> bool:
    return datetime.fromisoformat(a) > datetime.fromisoformat(b)


def zone_of(name: str):
    try:
        return ZoneInfo(name) if name else timezone.get_default_timezone()
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def start_run(program, triggered_by: str, full: bool = False, actor: str = "") -> SyncRun:
    return SyncRun.objects.create(program=program, triggered_by=triggered_by, full=full, actor=actor[:100])


def execute(run: SyncRun, progress: Progress | None = None) -> SyncRun:
    """Run a queued sync to its end and record it; never raises for DHIS2 or data problems."""
    if not locks.acquire(run.program, run.pk):
        return _finish(run, SyncRun.Status.FAILED, "already_running",
                       f"Another sync of this programme is running (run {locks.holder(run.program)}).")
    try:
        run.status, run.started_at = SyncRun.Status.RUNNING, timezone.now()
        run.save(update_fields=["status", "started_at"])
        return _execute(run, progress)
    finally:
        locks.release(run.program, run.pk)


def _execute(run: SyncRun, progress: Progress | None) -> SyncRun:
    state = ProgrammeSync.objects.get(program=run.program)
    try:
        conn = connections.connection_of(run.program.organisation)
        creds = connections.credentials_of(conn)
    except connections.NotConfigured as exc:
        return _finish(run, SyncRun.Status.FAILED, "not_configured", str(exc))
    except ValueError as exc:  # a secret encrypted with a key no longer configured
        return _finish(run, SyncRun.Status.FAILED, "secret_unreadable", str(exc))
    ctx = None
    with BlockingClient(creds) as client:
        try:
            ctx = _prepare(run, state, conn, client)
            _pages(ctx, progress)
        except (Dhis2Error, versions.UnsupportedVersion, LockLost) as exc:
            return _interrupted(run, ctx, exc.code, getattr(exc, "message", str(exc)))
        except Exception:
            log.exception("sync run %s of programme %s stopped on an unexpected error", run.pk, run.program_id)
            return _interrupted(run, ctx, "internal_error", "Unexpected error; see the worker log.")
    return _completed(run, ctx)


def _prepare(run: SyncRun, state: ProgrammeSync, conn, client: BlockingClient) -> Context:
    info = client.run(metadata.system_info(client.async_client))
    profile = info.profile
    run.dhis2_version, run.api = info.version, profile.name
    if conn.dhis2_version != info.version:
        type(conn).objects.filter(pk=conn.pk).update(dhis2_version=info.version)
    fields = mapping.stored(run.program)
    if not fields:
        programme = client.run(metadata.programme(client.async_client, run.program.dhis2_program_uid))
        fields = mapping.suggest(programme.attributes)
    org_units = list(conn.org_units or []) or client.run(metadata.user_org_units(client.async_client))
    if not org_units:
        raise Dhis2Error("The DHIS2 account has no organisation unit to read from: assign it one, or set "
                         "org_units on the connection.")
    cursor = "" if run.full else state.cursor
    run.cursor = cursor
    run.save(update_fields=["dhis2_version", "api", "cursor"])
    parser = Parser(run.program.dhis2_program_uid, mapping.Lookup.of(fields),
                    run.program.default_country or run.program.organisation.country, zone_of(info.timezone))
    return Context(run, client, profile, info.server_date, parser, org_units, cursor, names=parser.org_unit_names)


def _fetch(ctx: Context, page: int, size: int) -> list[dict]:
    query = ctx.profile.query(ctx.run.program.dhis2_program_uid, ctx.org_units, page, size, ctx.cursor,
                              totals=page == 1)
    data = ctx.client.get(ctx.profile.path, query)
    if page == 1:
        ctx.run.total = versions.total_of(data)
    return versions.rows_of(data)


def _resolve_names(ctx: Context, entities: list[dict]) -> None:
    missing = missing_org_unit_names(entities, ctx.names, ctx.parser.lookup)
    if not missing:
        return
    try:
        ctx.names.update(ctx.client.run(metadata.org_unit_names(ctx.client.async_client, missing)))
    except Dhis2Error as exc:
        log.info("org unit names unavailable (%s); kept empty", exc.code)
    ctx.names.update({ou: ctx.names.get(ou, "") for ou in missing})


def _store_hierarchy(ctx: Context, units: set[str]) -> None:
    """Store the page's org units with their ancestors (once per run each), for the reach report. A DHIS2
    that refuses leaves them unknown: their beneficiaries are still counted, under "unknown"."""
    missing = sorted(units - ctx.units_done)
    if not missing:
        return
    ctx.units_done.update(missing)
    try:
        found = ctx.client.run(metadata.org_unit_tree(ctx.client.async_client, missing))
    except Dhis2Error as exc:
        log.info("org unit hierarchy unavailable (%s); those units stay unknown", exc.code)
        return
    ou_tree.save_tree(ctx.run.program.organisation, found)


def _pages(ctx: Context, progress: Progress | None) -> None:
    size, page, first_of_previous = conf.page_size(), 1, None
    while True:
        entities = _fetch(ctx, page, size)
        first = (entities[0].get("trackedEntity") or entities[0].get("trackedEntityInstance")) if entities else None
        if first is not None and first == first_of_previous:
            raise Dhis2Error("DHIS2 returned the same page twice: the server ignores paging.")
        _resolve_names(ctx, entities)
        rows = ctx.parser.page(entities)
        outcome = upsert(ctx.run.program, rows)
        _store_hierarchy(ctx, {r["org_unit"] for r in rows if r["org_unit"]})
        _count(ctx, len(entities), outcome)
        if not locks.heartbeat(ctx.run.program, ctx.run.pk):
            raise LockLost("The sync lock expired and another run took over.")
        if progress:
            progress(ctx.run)
        if len(entities) < size:
            return
        page, first_of_previous = page + 1, first


def _count(ctx: Context, fetched: int, outcome: Outcome) -> None:
    run, tally = ctx.run, ctx.parser.tally
    run.pages += 1
    run.fetched += fetched
    run.created += outcome.created
    run.updated += outcome.updated
    ctx.upsert_skipped += outcome.skipped
    run.skipped = tally.skipped + ctx.upsert_skipped
    run.errors, run.phones_unparsable = tally.errors, tally.phones_unparsable
    ctx.done_until = tally.last_updated if tally.ordered else ""
    run.save(update_fields=COUNTERS)


def _save_cursor(run: SyncRun, cursor: str) -> None:
    ProgrammeSync.objects.filter(program=run.program, locked_by=run.pk).update(cursor=cursor)
    run.next_cursor = cursor


def _next_cursor(ctx: Context) -> str:
    """The server's clock at the start, minus the overlap; without a server date (reduced system info for
    some accounts), the newest change seen; else the previous cursor."""
    stamp = ctx.server_date or (ctx.parser.tally.last_updated if ctx.parser.tally.ordered else "")
    return shift(stamp, -conf.overlap_minutes()) if stamp else ctx.cursor


def _completed(run: SyncRun, ctx: Context) -> SyncRun:
    _save_cursor(run, _next_cursor(ctx))
    status = SyncRun.Status.PARTIAL if run.errors else SyncRun.Status.SUCCESS
    message = f"{run.errors} record(s) could not be read." if run.errors else ""
    return _finish(run, status, "records_unreadable" if run.errors else "", message)


def _interrupted(run: SyncRun, ctx: Context | None, code: str, message: str) -> SyncRun:
    """Keep the previous cursor, moved only past pages imported in order; partial if something was saved."""
    if ctx is not None and ctx.done_until and run.pages:
        late = ctx.server_date and _after(ctx.done_until, ctx.server_date)
        until = ctx.server_date if late else ctx.done_until
        progress = shift(until, -conf.overlap_minutes())
        if not ctx.cursor or _after(progress, ctx.cursor):
            _save_cursor(run, progress)
    status = SyncRun.Status.PARTIAL if run.pages else SyncRun.Status.FAILED
    log.warning("sync run %s of programme %s stopped: %s", run.pk, run.program_id, code)
    return _finish(run, status, code, message)


def _finish(run: SyncRun, status: str, code: str = "", message: str = "") -> SyncRun:
    run.status, run.error_code, run.error_message = status, code, message
    run.finished_at = timezone.now()
    if run.started_at:
        run.duration_seconds = round((run.finished_at - run.started_at).total_seconds(), 3)
    run.save()
    log.info("sync run %s of programme %s: %s (created %d, updated %d, skipped %d, errors %d, phones "
             "unparsable %d)", run.pk, run.program_id, status, run.created, run.updated, run.skipped,
             run.errors, run.phones_unparsable)
    for receiver, error in sync_finished.send_robust(sender=SyncRun, run=run):
        if isinstance(error, Exception):
            log.error("sync_finished receiver %r failed: %s", receiver, error.__class__.__name__)
    return run


def run_now(program, triggered_by: str = SyncRun.Trigger.CLI, full: bool = False,
            progress: Progress | None = None, actor: str = "") -> SyncRun:
    """Start and execute a sync in this process (management command, demo import)."""
    return execute(start_run(program, triggered_by, full, actor), progress)
