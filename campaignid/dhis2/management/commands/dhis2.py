"""``campaignid dhis2 sync [--programme UID] [--full]``: import beneficiaries from DHIS2 now.

Without ``--programme`` every programme of every organisation with a DHIS2 connection is synced, one
after the other. Progress goes to stderr: a bar on a terminal, plain lines otherwise. The exit status is
non-zero when a run failed.
"""

from __future__ import annotations

import logging
import sys

from django.core.management.base import BaseCommand, CommandError

from campaignid.dhis2 import sync
from campaignid.dhis2.models import Connection, SyncRun
from campaignid.programs.models import Program

BAR = 30


class ProgressPrinter:
    """Shows a run's progress on stderr; redraws one line on a terminal."""

    def __init__(self, stream, tty: bool) -> None:
        self.stream, self.tty = stream, tty

    def __call__(self, run: SyncRun) -> None:
        counts = f"created {run.created}, updated {run.updated}, skipped {run.skipped}, errors {run.errors}"
        if not self.tty:
            self.stream.write(f"programme {run.program.dhis2_program_uid}: page {run.pages}, "
                              f"{run.fetched} read{f' of {run.total}' if run.total else ''}; {counts}\n")
        elif run.total:
            done = min(BAR, int(BAR * run.fetched / max(run.total, 1)))
            self.stream.write(f"\r{run.program.dhis2_program_uid} [{'#' * done}{'.' * (BAR - done)}] "
                              f"{run.fetched}/{run.total}  {counts}")
        else:
            self.stream.write(f"\r{run.program.dhis2_program_uid} {run.fetched} read  {counts}")
        self.stream.flush()

    def end(self) -> None:
        if self.tty:
            self.stream.write("\n")


class Command(BaseCommand):
    help = "DHIS2 importer: `dhis2 sync [--programme UID] [--full]`."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        run = actions.add_parser("sync", help="Import the programme's tracked entities now")
        run.add_argument("--programme", help="DHIS2 programme UID (default: every connected programme)")
        run.add_argument("--full", action="store_true", help="Read everything again, ignoring the cursor")

    def handle(self, *args, **options) -> None:
        programs = self._programmes(options.get("programme"))
        tty, failed = sys.stderr.isatty(), 0
        if tty:  # the bar and the summary line say it all; log lines would break the bar
            logging.getLogger("campaignid.dhis2").setLevel(logging.ERROR)
        for program in programs:
            printer = ProgressPrinter(sys.stderr, tty)
            run = sync.run_now(program, SyncRun.Trigger.CLI, full=options["full"], progress=printer)
            printer.end()
            self.stdout.write(self._summary(program, run))
            failed += run.status == SyncRun.Status.FAILED
        if failed:
            raise CommandError(f"{failed} sync run(s) failed.")

    def _programmes(self, uid: str | None) -> list[Program]:
        connected = Connection.objects.values_list("organisation_id", flat=True)
        qs = Program.objects.filter(organisation_id__in=connected).select_related("organisation").order_by("id")
        if uid:
            qs = qs.filter(dhis2_program_uid=uid)
        programs = list(qs)
        if not programs:
            raise CommandError("No programme with a DHIS2 connection" + (f" has UID {uid}." if uid else "."))
        return programs

    @staticmethod
    def _summary(program: Program, run: SyncRun) -> str:
        line = (f"{program.organisation.slug}/{program.dhis2_program_uid}: run {run.pk} {run.status} — "
                f"created {run.created}, updated {run.updated}, skipped {run.skipped}, errors {run.errors}, "
                f"phones unparsable {run.phones_unparsable}, {run.duration_seconds or 0:.1f}s")
        return line + (f" ({run.error_message})" if run.error_message else "")
