"""Queue tasks of the DHIS2 importer. The ``SyncRun`` table is the truth; a task only says "run it now".

Every minute ``start_due_syncs`` starts the programmes whose schedule is due (one run per programme at a
time, claimed by a conditional update so several schedulers never double-start) and closes runs whose
worker died or whose queue task was lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import locks, sync
from .models import Connection, ProgrammeSync, SyncRun

log = logging.getLogger("campaignid.dhis2.tasks")


@db_task()
def sync_programme(run_id: int) -> str | None:
    run = SyncRun.objects.select_related("program__organisation").filter(
        pk=run_id, status=SyncRun.Status.QUEUED).first()
    if run is None:
        return None  # already run, or closed as lost
    return sync.execute(run).status


def enqueue(run: SyncRun) -> None:
    sync_programme(run.pk)


def _claim(state: ProgrammeSync, now) -> bool:
    """Move the schedule forward; True for the one scheduler whose update won."""
    nxt = now + timedelta(minutes=state.interval_minutes)
    return ProgrammeSync.objects.filter(pk=state.pk, next_sync_at=state.next_sync_at).update(next_sync_at=nxt) == 1


@db_periodic_task(crontab(minute="*"))
def start_due_syncs() -> int:
    locks.fail_abandoned()
    now, started = timezone.now(), 0
    due = ProgrammeSync.objects.filter(enabled=True, next_sync_at__lte=now).select_related("program")
    with_connection = set(Connection.objects.values_list("organisation_id", flat=True))
    for state in due:
        if not _claim(state, now) or state.program.organisation_id not in with_connection:
            continue
        if SyncRun.objects.filter(program=state.program, status__in=(SyncRun.Status.QUEUED,
                                                                     SyncRun.Status.RUNNING)).exists():
            continue
        enqueue(sync.start_run(state.program, SyncRun.Trigger.SCHEDULED))
        started += 1
    if started:
        log.info("started %d scheduled DHIS2 sync(s)", started)
    return started
