"""/dhis2/sync and /dhis2/sync-runs: start a sync through the queue, follow the recorded runs."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from campaignid.api.errors import ApiError

from . import service
from .edges import upstream
from .schemas import SyncIn, SyncQueuedOut, SyncRunOut

router = Router(tags=["DHIS2"])


@router.post("/sync", response={202: SyncQueuedOut}, summary="Queue a sync of one programme")
def start_sync(request: HttpRequest, payload: SyncIn):
    """Answers at once with the run id; follow it with `GET /dhis2/sync-runs/{id}`. When a sync of the
    programme is already queued or running, that run is returned (`created: false`)."""
    with upstream():
        run, created = service.queue_sync(request.auth, payload.programme_uid, payload.full)
    run.refresh_from_db(fields=["status"])
    return Status(202, {"run_id": run.pk, "programme_uid": payload.programme_uid, "status": run.status,
                        "created": created})


@router.get("/sync-runs", response=list[SyncRunOut], summary="Recent sync runs, newest first")
def list_runs(request: HttpRequest, programme_uid: str | None = None, limit: int = 50):
    with upstream():
        return service.runs(request.auth, programme_uid, max(1, min(limit, 500)))


@router.get("/sync-runs/{run_id}", response=SyncRunOut, summary="One sync run")
def get_run(request: HttpRequest, run_id: int):
    run = service.run_of(request.auth, run_id)
    if run is None:
        raise ApiError(404, "not_found", "No such sync run.")
    return run
