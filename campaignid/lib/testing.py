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
