"""The embedded demo: the demo programme reads the sandbox DHIS2 (``SANDBOX_URL`` + ``/dhis2``)."""

from __future__ import annotations

from . import mapping, metadata, service, sync
from .client import BlockingClient, Dhis2Error
from .connections import credentials_of
from .models import SyncRun


def import_demo(program) -> SyncRun:
    """Connect the programme's organisation to the sandbox DHIS2 (admin / district), store the suggested
    attribute mapping, and run a first sync now. An organisation already connected to another DHIS2 keeps
    its connection. Returns the recorded run (check ``run.status``)."""
    conn = service.demo_connection(program.organisation)
    if not mapping.stored(program):
        try:
            with BlockingClient(credentials_of(conn)) as client:
                remote = client.run(metadata.programme(client.async_client, program.dhis2_program_uid))
            mapping.save(program, mapping.suggest(remote.attributes))
        except Dhis2Error:
            pass  # the sync records the problem
    return sync.run_now(program, SyncRun.Trigger.CLI, actor="demo")
