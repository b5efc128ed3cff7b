"""The ``campaignid`` command: Django's manage.py plus ``serve``, ``worker`` and ``sandbox``.

    campaignid serve            web server + one queue consumer + sandbox providers (embedded default)
    campaignid worker           one queue consumer alone (scale-out: run many, on many machines)
    campaignid sandbox          the provider sandboxes alone (default port 8900)
    campaignid createtoken --user <username>
    campaignid <any manage.py command>
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "campaignid"
    if len(argv) > 1 and argv[1] == "sandbox":
        # The sandbox needs no Django: it emulates third-party providers.
        sys.argv = ["campaignid sandbox", *argv[2:]]
        import runpy

        runpy.run_module("campaignid.sandbox", run_name="__main__")
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
