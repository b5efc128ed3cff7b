"""A task enqueued through Huey is executed by a real consumer process, on each queue backend."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from campaignid.lib.testing import require_redis, shared_database_url

ENQUEUE = """
import json, django
django.setup()
from campaignid.programs.tasks import queue_probe
print(json.dumps(queue_probe({tag!r}).get(blocking=True, timeout=60)))
"""


@pytest.fixture(params=["sqlite", "redis"])
def queue_url(request, tmp_path):
    if request.param == "redis":
        return require_redis()
    return f"sqlite:///{tmp_path / 'queue.sqlite3'}"


@pytest.mark.django_db(transaction=True)
def test_consumer_process_runs_an_enqueued_task_with_database_access(queue_url, make_org, tmp_path):
    make_org()  # one organisation the task must see through the database
    env = dict(os.environ, QUEUE_URL=queue_url, DATABASE_URL=shared_database_url(),
               QUEUE_NAME=f"t-{uuid.uuid4().hex[:8]}",
               CAMPAIGNID_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="campaignid.settings")
    consumer = subprocess.Popen([sys.executable, "-m", "campaignid.cli", "worker", "--workers", "1"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        tag = uuid.uuid4().hex
        out = subprocess.run([sys.executable, "-c", ENQUEUE.format(tag=tag)], env=env, capture_output=True,
                             text=True, timeout=90)
        assert out.returncode == 0, out.stderr
        import json

        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert result["tag"] == tag
        assert result["pid"] == consumer.pid
        assert result["organisations"] == 1
    finally:
        consumer.terminate()
        consumer.wait(20)
