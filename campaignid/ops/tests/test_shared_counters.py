"""Rate limits and login counts are shared by every process: two processes counting on the same key see
one sequence of counts (database by default, Redis when the queue is Redis)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from campaignid.lib import counters
from campaignid.lib.testing import require_redis, shared_database_url

SCRIPT = """
import django, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "campaignid.settings"
django.setup()
from campaignid.lib import counters
print(" ".join(str(counters.hit(sys.argv[1], 60)[0]) for _ in range(int(sys.argv[2]))))
"""


def _two_processes(key: str, hits: int, **env: str) -> list[int]:
    full_env = dict(os.environ, **env)
    full_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, key, str(hits)], env=full_env,  # noqa: S603
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    counts = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        counts += [int(n) for n in out.split()]
    return counts


@pytest.mark.django_db(transaction=True)
def test_two_processes_count_together_in_the_database(settings):
    settings.QUEUE_URL = f"sqlite:///{settings.DATA_DIR / 'queue-counters.sqlite3'}"  # the database counters
    counts = _two_processes("ratelimit:card_page:196.1.1.1", 40, DATABASE_URL=shared_database_url(),
                            QUEUE_URL=settings.QUEUE_URL)
    assert sorted(counts) == list(range(1, 81))  # no hit lost, none counted twice
    assert counters.peek("ratelimit:card_page:196.1.1.1") == 80


def test_two_processes_count_together_in_redis(settings):
    url = require_redis()
    settings.QUEUE_URL = url
    key = f"ratelimit:verify_api:test-{os.getpid()}"
    counters.clear(key)
    try:
        counts = _two_processes(key, 40, QUEUE_URL=url, QUEUE_NAME=settings.QUEUE_NAME)
        assert sorted(counts) == list(range(1, 81))
        assert counters.peek(key) == 80
        count, left = counters.hit(key, 60)
        assert count == 81 and 0 < left <= 60
    finally:
        counters.clear(key)


@pytest.mark.django_db
def test_an_expired_window_starts_again_at_one(settings):
    settings.QUEUE_URL = f"sqlite:///{settings.DATA_DIR / 'queue-counters.sqlite3'}"  # the database counters
    assert [counters.hit("k", 60)[0] for _ in range(3)] == [1, 2, 3]
    from campaignid.ops.models import Counter

    Counter.objects.filter(key="k").update(expires_at=0)
    assert counters.peek("k") == 0 and counters.hit("k", 60)[0] == 1
