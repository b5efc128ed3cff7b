import os

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run one queue consumer (Huey). Start several, on several machines, to scale out."

    def add_arguments(self, parser):
        parser.add_argument("-w", "--workers", type=int, default=4, help="worker threads (default 4)")
        parser.add_argument("--verbose", action="store_true", help="log every task (default: warnings only)")

    def handle(self, *args, workers, verbose, **options):
        if directory := os.environ.get("CAMPAIGNID_PROFILE_DIR"):
            from huey.contrib.djhuey import HUEY

            from campaignid.lib import profiling

            profiling.install(HUEY, directory)
        # Huey logs every task at INFO (verbose=None); by default keep to warnings (verbose=False).
        call_command("run_huey", workers=workers, worker_type="thread", periodic=True,
                     verbose=None if verbose else False)
