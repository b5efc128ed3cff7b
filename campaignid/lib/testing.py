"""Test helpers shared by every app's tests (imported only from tests)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def require_service(url: str, default_port: int, what: str) -> str:
    """Skip with a clear reason when the server is absent, except under CI, where it must be there."""
    if _reachable(url, default_port):
        return url
    message = f"{what} is not reachable at {url} (scale-out tests need it)"
    if IN_CI:
        pytest.fail(message + "; under CI=true this is a failure, not a skip")
    pytest.skip(message)


def require_redis() -> str:
    return require_service(TEST_REDIS_URL, 6379, "Redis")


def require_postgres() -> str:
    return require_service(TEST_POSTGRES_URL, 5432, "PostgreSQL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shared_database_url() -> str:
    """The URL of the database this test process uses, for a subprocess (a worker) to share it."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def shared_queue_url() -> str:
    """The URL of the queue this test process uses (its SQLite file, or the Redis URL)."""
    from django.conf import settings

    storage = settings.HUEY.storage
    return settings.QUEUE_URL if not getattr(storage, "filename", None) else f"sqlite:///{storage.filename}"


def start_worker(log_dir, threads: int = 2, **env: str):
    """A real ``campaignid worker`` process on the test's database and queue; its output goes to a log file."""
    import subprocess
    import sys
    import time

    from django.conf import settings

    full_env = dict(os.environ, DATABASE_URL=shared_database_url(), QUEUE_URL=shared_queue_url(),
                    QUEUE_NAME=settings.QUEUE_NAME, CAMPAIGNID_DATA_DIR=str(settings.DATA_DIR), **env)
    full_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(f"{log_dir}/worker-{time.monotonic_ns()}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "campaignid.cli", "worker", "--workers", str(threads)],  # noqa: S603
                            env=full_env, stdout=log, stderr=subprocess.STDOUT)


def eventually(predicate, seconds: float = 20, every: float = 0.1) -> bool:
    """Whether ``predicate()`` becomes true within ``seconds`` (polled every ``every`` seconds)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def in_thread(work):
    """Run ``work()`` on a daemon thread that closes its database connections when done; the thread."""
    import threading

    def run():
        from django.db import connections

        try:
            work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread
