"""Queue tasks of the programmes app."""

from __future__ import annotations

import os

from huey.contrib.djhuey import db_task

from .models import Organisation


@db_task()
def queue_probe(tag: str) -> dict:
    """Proves a consumer runs our code with database access (used by tests and `campaignid check`)."""
    return {"tag": tag, "pid": os.getpid(), "organisations": Organisation.objects.count()}
