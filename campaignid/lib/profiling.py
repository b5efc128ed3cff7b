"""Opt-in profiling of a queue consumer: ``CAMPAIGNID_PROFILE_DIR=/tmp/prof campaignid worker``.

Each worker thread profiles the tasks it runs with cProfile (which sees only its own thread) and writes its
accumulated statistics to ``<dir>/worker-<pid>-<thread>.prof`` at most every 5 s; read them with
``python -m pstats`` or merge them with ``pstats.Stats(*paths)``. Off by default: it costs ~30 % CPU.
"""

from __future__ import annotations

import cProfile
import os
import threading
import time
from pathlib import Path

_local = threading.local()


def install(huey, directory: str) -> None:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)

    @huey.pre_execute()
    def _start(task) -> None:
        if not hasattr(_local, "profile"):
            _local.profile, _local.saved = cProfile.Profile(), 0.0
        _local.profile.enable()

    @huey.post_execute()
    def _stop(task, value, exc) -> None:
        profile = getattr(_local, "profile", None)
        if profile is None:
            return
        profile.disable()
        if time.monotonic() - _local.saved > 5:
            profile.dump_stats(out / f"worker-{os.getpid()}-{threading.get_ident()}.prof")
            _local.saved = time.monotonic()
