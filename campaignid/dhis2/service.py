"""What the API and the dashboard ask of the importer: programmes, attributes, mapping, schedules, runs.

Every function takes a ``Scope``: a programme of another organisation is simply not found.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import connections, mapping, metadata
from .client import BlockingClient
from .connections import ConnectionInput
from .models import ProgrammeSync, SyncRun

ACTIVE = (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING)


class ProgrammeUnknown(LookupError):
    """No programme of the caller's organisation is linked to this DHIS2 programme UID."""


def client_for(scope) -> BlockingClient:
    return BlockingClient(connections.credentials_of(connections.connection_of(scope.organisation)))


def local_programme(scope, uid: str):
    program = scope.programs().filter(dhis2_program_uid=uid).first()
    if program is None:
        raise ProgrammeUnknown(f"No programme of this organisation is linked to DHIS2 programme {uid!r}.")
    return program


def list_programmes(scope) -> list[dict]:
    """The DHIS2 server's tracker programmes; a caller limited to some programmes sees only those."""
    with client_for(scope) as client:
        remote = client.run(metadata.tracker_programmes(client.async_client))
    local = {p.dhis2_program_uid: p for p in scope.programs()}
    out = []
    for item in remote:
        p = local.get(item["uid"])
        if p is None and scope.program_ids is not None:
            continue
        out.append({**item, "programme_id": p.pk if p else None, "programme_name": p.name if p else None,
                    "mapping_configured": bool(p and mapping.stored(p))})
    return out


def programme_attributes(scope, uid: str) -> dict:
    """The programme's attributes with the stored mapping, and the pre-selected one. A caller limited to some
    programmes reads only theirs (404 otherwise, as for an unknown programme)."""
    program = scope.programs().filter(dhis2_program_uid=uid).first()
    if program is None and scope.program_ids is not None:
        local_programme(scope, uid)  # raises ProgrammeUnknown, as for a programme no one imported
    with client_for(scope) as client:
        remote = client.run(metadata.programme(client.async_client, uid))
    stored = mapping.stored(program) if program else {}
    suggested = mapping.suggest(remote.attributes)
    mapped = {v["uid"]: f for f, v in stored.items()}
    guess = {v["uid"]: f for f, v in suggested.items()}
    attributes = [{"uid": a.uid, "name": a.name, "code": a.code or None, "value_type": a.value_type,
                   "mandatory": a.mandatory, "unique": a.unique, "mapped_card_field": mapped.get(a.uid),
                   "suggested_card_field": guess.get(a.uid)} for a in remote.attributes]
    return {"programme_uid": remote.uid, "programme_name": remote.name, "attributes": attributes,
            "mapping": stored, "suggested_mapping": suggested,
            "unmapped_card_fields": mapping.unmapped(stored or suggested)}


def assign_codes(scope, uid: str, items: list[dict]) -> dict:
    program = local_programme(scope, uid)
    with client_for(scope) as client:
        remote = client.run(metadata.programme(client.async_client, uid))
    resolved = mapping.resolve(remote.attributes, items)
    mapping.save(program, resolved)
    return {"programme_uid": uid, "mappings_configured": len(resolved), "mapping": resolved,
            "unmapped_card_fields": mapping.unmapped(resolved), "updated_at": program.updated_at}


def schedule_out(state: ProgrammeSync) -> dict:
    return {"programme_uid": state.program.dhis2_program_uid, "interval_minutes": state.interval_minutes,
            "enabled": state.enabled, "auto_generate_cards": state.auto_generate_cards,
            "next_sync": state.next_sync_at if state.enabled else None, "cursor": state.cursor or None}


def schedules(scope, uid: str | None = None) -> list[dict]:
    programs = scope.programs()
    if uid:
        programs = [local_programme(scope, uid)]
    out = []
    for program in programs:
        state, _ = ProgrammeSync.objects.select_related("program").get_or_create(program=program)
        out.append(schedule_out(state))
    return out


def set_schedule(scope, uid: str, interval: int, enabled: bool, auto_generate_cards: bool) -> dict:
    program = local_programme(scope, uid)
    with transaction.atomic():
        state, _ = ProgrammeSync.objects.select_for_update().get_or_create(program=program)
        soonest = timezone.now() + timedelta(minutes=interval)
        if enabled:
            state.next_sync_at = min(state.next_sync_at, soonest) if state.next_sync_at and state.enabled \
                else soonest
        else:
            state.next_sync_at = None
        state.enabled, state.interval_minutes, state.auto_generate_cards = enabled, interval, auto_generate_cards
        state.save()
    return schedule_out(state)


def active_run(program) -> SyncRun | None:
    return SyncRun.objects.filter(program=program, status__in=ACTIVE).order_by("id").first()


def queue_sync(scope, uid: str, full: bool = False, triggered_by: str = SyncRun.Trigger.MANUAL) -> tuple[SyncRun, bool]:
    """Queue a sync of one programme; (run, created). A queued or running sync is returned as is."""
    from . import sync, tasks

    program = local_programme(scope, uid)
    connections.connection_of(scope.organisation)
    with transaction.atomic():
        ProgrammeSync.objects.get_or_create(program=program)
        ProgrammeSync.objects.select_for_update().filter(program=program).first()
        existing = active_run(program)
        if existing is not None:
            return existing, False
        run = sync.start_run(program, triggered_by, full, scope.actor)
    tasks.enqueue(run)
    return run, True


def runs(scope, uid: str | None = None, limit: int = 50):
    qs = scope.filter_programs(SyncRun.objects.select_related("program"))
    if uid:
        qs = qs.filter(program=local_programme(scope, uid))
    return list(qs.order_by("-id")[:limit])


def run_of(scope, run_id: int) -> SyncRun | None:
    return scope.filter_programs(SyncRun.objects.select_related("program")).filter(pk=run_id).first()


def sandbox_url() -> str:
    return settings.SANDBOX_URL.rstrip("/") + "/dhis2"


def demo_connection(organisation):
    """Point an organisation at the sandbox DHIS2 unless it already has a real connection."""
    conn = connections.Connection.objects.filter(organisation=organisation).first()
    if conn is not None and conn.url != sandbox_url():
        return conn
    return connections.save(organisation, ConnectionInput(sandbox_url(), "admin", "district"))
