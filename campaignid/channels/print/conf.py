"""Print channel settings.

| setting   | env variable     | default                              |
|-----------|------------------|--------------------------------------|
| layout    | PRINT_LAYOUT     | ``a4``: 10 CR80 cards per A4 page, cut marks; ``cr80``: one per page (PVC printers) |
| spool_dir | PRINT_SPOOL_DIR  | ``<CAMPAIGNID_DATA_DIR>/print``      |

Nothing is required: the print channel works on a fresh install. The spool directory holds the generated
PDF sheets (health data: the deployment keeps it on the same protected disk as the database).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV = {"layout": "PRINT_LAYOUT", "spool_dir": "PRINT_SPOOL_DIR"}
SECRET_FIELDS: tuple[str, ...] = ()
SETTINGS_FIELDS = ("layout",)
REQUIRED: tuple[str, ...] = ()
LAYOUTS = ("a4", "cr80")
RATE_PER_SECOND = 1000.0  # no remote provider: pacing only spreads the work


def sandbox_defaults(sandbox_url: str) -> dict[str, Any]:
    return {}


def default_spool_dir() -> str:
    try:
        from django.conf import settings

        base = str(getattr(settings, "DATA_DIR", "var"))
    except Exception:  # Django not configured (pure use of the module)
        base = os.environ.get("CAMPAIGNID_DATA_DIR", "var")
    return str(Path(base) / "print")


@dataclass(frozen=True)
class PrintConfig:
    layout: str = "a4"
    spool_dir: str = ""

    @property
    def spool(self) -> Path:
        return Path(self.spool_dir or default_spool_dir())


def from_mapping(mapping: Mapping[str, Any]) -> PrintConfig:
    layout = str(mapping.get("layout") or "a4").strip().lower()
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    return PrintConfig(layout=layout, spool_dir=str(mapping.get("spool_dir") or "").strip())
