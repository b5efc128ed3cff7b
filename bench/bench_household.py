"""Household benchmarks (shared phones), one scenario per function in ``SCENARIOS``.

    python bench/bench_household.py [--scenario pdf] [--repeat 30] [--json out.json]

Scenario ``pdf``: build the document sent to a shared phone — ``render_household_pdf`` of 6 cards (the
WhatsApp DOCUMENT header). Median CPU milliseconds over ``--repeat`` runs on one core. Baseline, same run:
the same 6 cards written by ``write_sheet`` of the print channel (cover + one A4 page of cards), the print
path's cost for the same QR codes. Budget: 6 cards ≤ 60 ms (median). Also reported: the PDF's size.

A new scenario is a function ``(args) -> dict`` with a ``budget_ok`` key, added to ``SCENARIOS``; the script
exits non-zero when any scenario that ran is over its budget.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PDF_BUDGET_MS = 60.0


def household_cards(n: int = 6):
    from campaignid.channels.base import CardView

    token = "HC1:" + "6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEPWK G2EP4J0B6BFOXN*TS0BI$ZD4N9" * 3
    return [CardView(code=f"DKR-VAC-{i:08d}", version=1, display_name=f"Aminata Sow {i}", first_name="Aminata",
                     last_name="Sow", programme_name="Rougeole 2026", programme_uid="PRG",
                     issued_at=date(2026, 12, 3), expires_at=date(2027, 12, 3), token=f"{token}{i:06d}", png=b"",
                     verification_url="", holder_url="") for i in range(n)]


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm-up: fonts, imports
    times = []
    for _ in range(repeat):
        cpu = time.process_time()
        fn()
        times.append((time.process_time() - cpu) * 1000)
    return round(statistics.median(times), 2)


def scenario_pdf(args) -> dict:
    from campaignid.cards.household_pdf import render_household_pdf
    from campaignid.channels.print.channel import PrintItem, SheetGroup
    from campaignid.channels.print.sheets import write_sheet

    cards = household_cards(6)
    ours = _median_ms(lambda: render_household_pdf(cards, lang="fr", household="HH-042"), args.repeat)
    items = [PrintItem(card=c, language="fr", org_unit_name="CSI Pikine", household="HH-042") for c in cards]
    group = SheetGroup(sheet_id="20261203-00000000-OU", org_unit_name="CSI Pikine", programme_name="Rougeole 2026",
                       language="fr")
    baseline = _median_ms(lambda: write_sheet(io.BytesIO(), group, items, "a4"), args.repeat)
    size = len(render_household_pdf(cards, lang="fr", household="HH-042"))
    return {"cards": 6, "median_ms": ours, "baseline_print_sheet_ms": baseline,
            "ratio_to_print_sheet": round(ours / baseline, 2) if baseline else None, "pdf_bytes": size,
            "budget_ms": PDF_BUDGET_MS, "budget_ok": ours <= PDF_BUDGET_MS}


SCENARIOS = {"pdf": scenario_pdf}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("CAMPAIGNID_DATA_DIR", tmp)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
        import django

        django.setup()
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
        results = {name: SCENARIOS[name](args) for name in (args.scenario or SCENARIOS)}
    out = {"machine": platform.node(), "python": platform.python_version(), **results}
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    if not all(r["budget_ok"] for r in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
