"""Print benchmark: 10,000 cards to PDF sheets on one core, memory flat.

    python bench/bench_print.py [--n 10000] [--group 500] [--baseline-n 100] [--json out.json]

The cards go through ``PrintChannel.print_many`` exactly as the engine hands them over: groups of
``--group`` cards (``PrintChannel.batch_size``), 50 health posts, so each group yields sheets of about
10 cards per health post plus their cover pages. Reported: total seconds, cards/s, pages, MB written,
and the process RSS after each group (first, peak, last): memory is flat when the last is within a few
MB of the first — every sheet is written and closed before the next one starts. Times are CPU seconds of
the process pinned to one core (wall seconds too): on a shared machine the wall clock measures the
neighbours.

Baseline, same run: the same cards with the QR drawn by reportlab's own pure-Python QR widget
(``reportlab.graphics.barcode.qr``) as vector modules — the obvious reportlab way — on ``--baseline-n`` cards.
Budget (DESIGN.md / issue 19): 10,000 cards ≤ 60 s on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def messages(n: int, posts: int = 50):
    from campaignid.channels.base import CardView, OutgoingMessage

    token = "HC1:" + "6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEPWK G2EP4J0B6BFOXN*TS0BI$ZD4N9" * 3
    for i in range(n):
        card = CardView(code=f"DKR-VAC-{i:08d}", version=1, display_name=f"Aminata Diallo {i}", first_name="Aminata",
                        last_name=f"Diallo{i % 97}", programme_name="Rougeole 2026", programme_uid="PRG",
                        issued_at=date(2026, 12, 3), expires_at=date(2027, 12, 3), token=f"{token}{i:06d}", png=b"",
                        verification_url="", holder_url="")
        ou = f"OU{i % posts:05d}"
        yield OutgoingMessage(delivery_id=i, recipient="", text="", language="fr", card=card,
                              variables={"org_unit": ou, "org_unit_name": f"CSI {ou}", "household": f"H{i // 4}"})


def run_ours(n: int, group: int, spool: Path) -> dict:
    from campaignid.channels.print import PrintChannel, PrintConfig

    channel = PrintChannel(PrintConfig(layout="a4", spool_dir=str(spool)))
    rss, pages, chunk = [], 0, []
    started, cpu = time.perf_counter(), time.process_time()
    for message in messages(n):
        chunk.append(message)
        if len(chunk) == group:
            pages += _print(channel, chunk)
            chunk = []
            rss.append(rss_mb())
    if chunk:
        pages += _print(channel, chunk)
        rss.append(rss_mb())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    size = sum(p.stat().st_size for p in spool.iterdir()) / 1e6
    return {"cards": n, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "cards_per_s": round(n / cpu),
            "pages": pages,
            "sheets": len(list(spool.iterdir())), "mb_written": round(size, 1),
            "rss_mb": {"first": round(rss[0], 1), "peak": round(max(rss), 1), "last": round(rss[-1], 1)}}


def _print(channel, chunk) -> int:
    outcomes = channel.print_many(chunk)
    bad = [o for o in outcomes if not hasattr(o, "provider_message_id")]
    if bad:
        raise SystemExit(f"print failed: {bad[0]!r}")
    return sum({o.provider_message_id: o.details["pages"] for o in outcomes}.values())


def run_baseline(n: int, out: Path) -> dict:
    """Same cards, QR by reportlab's pure-Python widget drawn as vector modules, 10 per A4 page."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.pdfgen.canvas import Canvas

    from campaignid.channels.print.layout import LAYOUTS
    from campaignid.channels.print.sheets import QR_SIZE

    a4 = LAYOUTS["a4"]
    c = Canvas(str(out), pagesize=a4.page)
    started = time.process_time()
    for i, message in enumerate(messages(n)):
        if i and i % a4.per_page == 0:
            c.showPage()
        x, y = a4.slot(i)
        c.setFont("Helvetica-Bold", 9)
        c.drawString(x + 8, y + 100, message.card.display_name)
        c.drawString(x + 8, y + 88, message.card.code)
        widget = QrCodeWidget(message.card.token, barLevel="M")
        x1, y1, x2, y2 = widget.getBounds()
        d = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (x2 - x1), 0, 0, QR_SIZE / (y2 - y1), 0, 0])
        d.add(widget)
        renderPDF.draw(d, c, x + 150, y + 10)
    c.save()
    seconds = time.process_time() - started
    return {"cards": n, "cpu_seconds": round(seconds, 2), "cards_per_s": round(n / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--group", type=int, default=500)
    parser.add_argument("--baseline-n", type=int, default=100)
    parser.add_argument("--json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("CAMPAIGNID_DATA_DIR", tmp)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
        import django

        django.setup()
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
        spool = Path(tmp) / "spool"
        spool.mkdir()
        ours = run_ours(args.n, args.group, spool)
        baseline = run_baseline(args.baseline_n, Path(tmp) / "baseline.pdf")
    result = {"machine": platform.node(), "python": platform.python_version(), "ours": ours, "baseline": baseline,
              "speedup": round(ours["cards_per_s"] / baseline["cards_per_s"], 2),
              "budget_60s": ours["cpu_seconds"] <= 60 * args.n / 10_000}
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    if not result["budget_60s"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
