"""``campaignid reach [--rebuild] [programme uid …]``: bring the reach aggregates up to date now (what the
periodic task does every minute), or recompute them from scratch, for some programmes or all."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from campaignid.distribution import reach_rollup
from campaignid.programs.models import Program


class Command(BaseCommand):
    help = "Refresh (or, with --rebuild, recompute from scratch) the reach-by-org-unit aggregates."

    def add_arguments(self, parser) -> None:
        parser.add_argument("programmes", nargs="*", help="DHIS2 programme UIDs (default: every programme)")
        parser.add_argument("--rebuild", action="store_true", help="forget what was read and recompute everything")

    def handle(self, *args, programmes: list[str], rebuild: bool, **options) -> None:
        qs = Program.objects.order_by("id")
        if programmes:
            qs = qs.filter(dhis2_program_uid__in=programmes)
            missing = set(programmes) - set(qs.values_list("dhis2_program_uid", flat=True))
            if missing:
                raise CommandError(f"No programme {', '.join(sorted(missing))}.")
        for program in qs:
            state = (reach_rollup.rebuild if rebuild else reach_rollup.refresh)(program)
            self.stdout.write(f"{program.dhis2_program_uid} {program.name}: "
                              f"{'rebuilt' if rebuild else 'refreshed'} in {state.refresh_seconds:.2f} s")
