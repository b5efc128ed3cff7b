"""`campaignid dhis2 sync`, the scheduled syncs through the queue, and the embedded demo import."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from campaignid.dhis2 import tasks
from campaignid.dhis2.demo import import_demo
from campaignid.dhis2.management.commands.dhis2 import ProgressPrinter
from campaignid.dhis2.models import Connection, ProgrammeSync, SyncRun
from campaignid.lib.testing import free_port
from campaignid.programs.models import Beneficiary

from .conftest import CHILD, state

pytestmark = pytest.mark.django_db


def test_command_syncs_a_programme_with_plain_progress_lines(sandbox, connect):
    _, program, _ = connect("2.39.1")
    out, err = io.StringIO(), io.StringIO()
    call_command("dhis2", "sync", "--programme", CHILD, stdout=out, stderr=err)
    run = SyncRun.objects.get(program=program)
    assert run.triggered_by == "cli" and run.status == "success"
    assert f"run {run.pk} success" in out.getvalue() and f"created {run.created}" in out.getvalue()
    assert Beneficiary.objects.filter(program=program).count() == run.created


def test_command_full_resync_and_failures_exit_non_zero(sandbox, connect):
    _, program, conn = connect("2.41.3")
    call_command("dhis2", "sync", "--full", stdout=io.StringIO())
    assert SyncRun.objects.get(program=program).full
    conn.secrets = {"password": "wrong"}
    conn.save()
    with pytest.raises(CommandError, match="1 sync run"):
        call_command("dhis2", "sync", stdout=io.StringIO())


def test_command_without_connected_programme_explains(db):
    with pytest.raises(CommandError, match="No programme with a DHIS2 connection"):
        call_command("dhis2", "sync", "--programme", CHILD)


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise(sandbox, connect):
    _, program, _ = connect()
    run = SyncRun(program=program, pages=2, fetched=100, total=262, created=90, skipped=10)
    tty, plain = io.StringIO(), io.StringIO()
    ProgressPrinter(tty, True)(run)
    ProgressPrinter(plain, False)(run)
    assert tty.getvalue().startswith("\r") and "[###########" in tty.getvalue() and "100/262" in tty.getvalue()
    assert plain.getvalue().endswith("\n") and "page 2, 100 read of 262" in plain.getvalue()
    assert "Aminata" not in tty.getvalue() + plain.getvalue()


def test_due_schedules_start_one_sync_each_through_the_queue(sandbox, connect, queue_inline):
    _, program, _ = connect("2.41.3")
    ProgrammeSync.objects.create(program=program, enabled=True, interval_minutes=10,
                                 next_sync_at=timezone.now() - timedelta(seconds=1))
    assert tasks.start_due_syncs.call_local() == 1
    run = SyncRun.objects.get(program=program)
    assert run.triggered_by == "scheduled" and run.status == "success"
    nxt = ProgrammeSync.objects.get(program=program).next_sync_at
    assert timedelta(minutes=9) < nxt - timezone.now() <= timedelta(minutes=10)
    assert tasks.start_due_syncs.call_local() == 0  # not due again yet


def test_disabled_or_unconnected_schedules_do_not_start(sandbox, make_org):
    _, program = make_org()
    ProgrammeSync.objects.create(program=program, enabled=True, next_sync_at=timezone.now() - timedelta(minutes=1))
    assert tasks.start_due_syncs.call_local() == 0 and not SyncRun.objects.exists()


def test_a_queued_run_whose_task_was_lost_is_closed(sandbox, connect):
    _, program, _ = connect()
    run = SyncRun.objects.create(program=program, queued_at=timezone.now() - timedelta(hours=2))
    tasks.start_due_syncs.call_local()
    run.refresh_from_db()
    assert run.status == "failed" and run.error_code == "not_started"


def test_import_demo_connects_the_sandbox_and_runs_a_first_sync(sandbox, make_org, settings):
    settings.SANDBOX_URL = sandbox.url
    org, program = make_org("demo", "DKR-VAC")
    run = import_demo(program)
    assert run.status == "success" and run.created > 0
    conn = Connection.objects.get(organisation=org)
    assert conn.url == f"{sandbox.url}/dhis2" and conn.username == "admin"
    program.refresh_from_db()
    assert program.options["dhis2_mapping"]["phone"]["uid"] == "P2cwLGskgxn"
    assert state(sandbox)["write_attempts"] == 0


def test_import_demo_keeps_a_real_connection(sandbox, make_org, settings):
    settings.SANDBOX_URL = sandbox.url
    org, program = make_org("demo", "DKR-VAC")
    other = f"http://127.0.0.1:{free_port()}/dhis2"  # another DHIS2 (here: nothing listening)
    Connection.objects.create(organisation=org, url=other, username="sync", secrets={"password": "x"})
    assert import_demo(program).error_code == "dhis2_unreachable"
    assert Connection.objects.get(organisation=org).url == other
