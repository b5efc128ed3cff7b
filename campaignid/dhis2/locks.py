"""One sync per programme at a time: a lease on the programme's ``ProgrammeSync`` row.

Taking the lock is one conditional UPDATE (free, or expired), so two workers cannot both win; the
holder pushes ``locked_until`` forward after each page; a killed worker's lease simply runs out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from . import conf
from .models import ProgrammeSync, SyncRun


def _until(now: datetime) -> datetime:
    return now + timedelta(seconds=conf.lock_seconds())


def acquire(program, run_id: int) -> bool:
    now = timezone.now()
    ProgrammeSync.objects.get_or_create(program=program)
    free = Q(locked_by__isnull=True) | Q(locked_until__lt=now) | Q(locked_by=run_id)
    return ProgrammeSync.objects.filter(free, program=program).update(locked_by=run_id, locked_until=_until(now)) == 1


def heartbeat(program, run_id: int) -> bool:
    """Extend the lease; False when it was lost (expired and taken by another run)."""
    return ProgrammeSync.objects.filter(program=program, locked_by=run_id).update(
        locked_until=_until(timezone.now())) == 1


def release(program, run_id: int) -> None:
    ProgrammeSync.objects.filter(program=program, locked_by=run_id).update(locked_by=None, locked_until=None)


def holder(program) -> int | None:
    """The run holding a live lease on this programme, if any."""
    row = ProgrammeSync.objects.filter(program=program, locked_by__isnull=False,
                                       locked_until__gte=timezone.now()).values_list("locked_by", flat=True).first()
    return row


def fail_abandoned(max_queued_minutes: float = 30.0) -> int:
    """Close runs whose worker died (running without a live lease) or whose queue task was lost."""
    now, closed = timezone.now(), 0
    for run in SyncRun.objects.filter(status=SyncRun.Status.RUNNING).select_related("program"):
        if holder(run.program) != run.pk:
            closed += _close(run, "worker_lost", "The worker running this sync stopped; the next run resumes.")
    stale = now - timedelta(minutes=max_queued_minutes)
    for run in SyncRun.objects.filter(status=SyncRun.Status.QUEUED, queued_at__lt=stale):
        closed += _close(run, "not_started", "The queue did not start this sync in time; start it again.")
    return closed


def _close(run: SyncRun, code: str, message: str) -> int:
    return SyncRun.objects.filter(pk=run.pk, status=run.status).update(
        status=SyncRun.Status.FAILED, error_code=code, error_message=message, finished_at=timezone.now())
