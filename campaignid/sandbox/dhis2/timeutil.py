"""DHIS2 timestamps: server-local wall time, millisecond precision, no offset ("2024-03-01T08:15:02.310").

Internally every instant is an integer number of milliseconds since the epoch.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Africa/Freetown"
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_ISO_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.I)
_LEGACY_DURATION = re.compile(r"^(\d+)([smhdw])$", re.I)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@lru_cache(maxsize=16)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=1 << 16)
def fmt(ms: int, tz: str = DEFAULT_TZ) -> str:
    seconds, millis = divmod(int(ms), 1000)
    return datetime.fromtimestamp(seconds, zone(tz)).replace(tzinfo=None).isoformat() + f".{millis:03d}"


def fmt_date(ms: int, tz: str = DEFAULT_TZ) -> str:
    return datetime.fromtimestamp(int(ms) // 1000, zone(tz)).strftime("%Y-%m-%d")


def day_start(ms: int, tz: str = DEFAULT_TZ) -> int:
    """Midnight (server-local) of the day holding ``ms``."""
    local = datetime.fromtimestamp(int(ms) // 1000, zone(tz))
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)


def parse(text: str, tz: str = DEFAULT_TZ) -> int:
    """A date or date-time parameter → epoch ms. Without an offset it is server-local time."""
    match = _DATETIME.match(text.strip())
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second, frac, offset = match.groups()
    millis = int((frac or "0").ljust(3, "0")[:3])
    naive = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    if offset:
        aware = datetime.fromisoformat(naive.isoformat() + ("+00:00" if offset == "Z" else _colon(offset)))
    else:
        aware = naive.replace(tzinfo=zone(tz))
    return int(aware.astimezone(UTC).timestamp()) * 1000 + millis


def _colon(offset: str) -> str:
    return offset if ":" in offset else f"{offset[:3]}:{offset[3:]}"


def parse_duration(text: str) -> int:
    """ISO-8601 duration (`PT5H`, `P2D`) or the legacy form (`5m`, `2h`, `1d`) → milliseconds."""
    text = text.strip()
    legacy = _LEGACY_DURATION.match(text)
    if legacy:
        return int(legacy.group(1)) * _UNIT_SECONDS[legacy.group(2).lower()] * 1000
    iso = _ISO_DURATION.match(text)
    if not iso or text.upper() in ("P", "PT"):
        raise ValueError(text)
    weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in iso.groups())
    return int(((weeks * 7 + days) * 86400 + hours * 3600 + minutes * 60 + seconds) * 1000)
