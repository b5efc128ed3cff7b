"""DHIS2 importer settings: environment variables, overridable in Django settings (tests use the latter).

    DHIS2_PAGE_SIZE                tracked entities per page (200; DHIS2 default is 50)
    DHIS2_TIMEOUT_SECONDS          total time for one request (30)
    DHIS2_CONNECT_TIMEOUT_SECONDS  time to open the TCP connection (10)
    DHIS2_TEST_TIMEOUT_SECONDS     total time budget of "test connection" (10)
    DHIS2_MAX_ATTEMPTS             attempts per request on 5xx / 429 / timeouts (4)
    DHIS2_BACKOFF_SECONDS          first retry delay, doubled each time, with jitter (1.0)
    DHIS2_BACKOFF_MAX_SECONDS      longest retry delay, Retry-After included (30)
    DHIS2_SYNC_OVERLAP_MINUTES     overlap subtracted from the incremental cursor (5)
    DHIS2_LOCK_SECONDS             a programme's sync lock expires after this without progress (900)
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from campaignid.lib import env

DEFAULTS: dict[str, float] = {
    "DHIS2_PAGE_SIZE": 200,
    "DHIS2_TIMEOUT_SECONDS": 30,
    "DHIS2_CONNECT_TIMEOUT_SECONDS": 10,
    "DHIS2_TEST_TIMEOUT_SECONDS": 10,
    "DHIS2_MAX_ATTEMPTS": 4,
    "DHIS2_BACKOFF_SECONDS": 1.0,
    "DHIS2_BACKOFF_MAX_SECONDS": 30,
    "DHIS2_SYNC_OVERLAP_MINUTES": 5,
    "DHIS2_LOCK_SECONDS": 900,
}


def value(name: str) -> float:
    """Django setting ``name`` if set, else the environment variable, else the default."""
    if hasattr(settings, name):
        return float(getattr(settings, name))
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return float(DEFAULTS[name])
    try:
        return float(raw)
    except ValueError as exc:
        raise env.ConfigError(f"{name} must be a number, not {raw!r}") from exc


@dataclass(frozen=True)
class Limits:
    """Timeouts and retry policy of one client."""

    timeout: float
    connect_timeout: float
    max_attempts: int
    backoff: float
    backoff_max: float

    @classmethod
    def for_sync(cls) -> Limits:
        return cls(value("DHIS2_TIMEOUT_SECONDS"), value("DHIS2_CONNECT_TIMEOUT_SECONDS"),
                   max(1, int(value("DHIS2_MAX_ATTEMPTS"))), value("DHIS2_BACKOFF_SECONDS"),
                   value("DHIS2_BACKOFF_MAX_SECONDS"))

    @classmethod
    def for_test(cls) -> Limits:
        """"Test connection" answers within its budget: one attempt, no retry."""
        budget = value("DHIS2_TEST_TIMEOUT_SECONDS")
        return cls(budget, min(budget, value("DHIS2_CONNECT_TIMEOUT_SECONDS")), 1, 0.0, 0.0)


def page_size() -> int:
    return max(1, int(value("DHIS2_PAGE_SIZE")))


def overlap_minutes() -> float:
    return value("DHIS2_SYNC_OVERLAP_MINUTES")


def lock_seconds() -> float:
    return value("DHIS2_LOCK_SECONDS")
