"""Unreached lists benchmark: the home-visit PDF of one health post, and the health-post picker of a programme.

    python bench/bench_unreached.py [--people 5000] [--programme 100000] [--json out.json]

``pdf``: a health post of ``--people`` unreached beneficiaries (plus as many reached ones, which the query
leaves out) drawn by ``write_list`` from ``unreached.rows`` (keyset chunks of 1,000), into a temporary file.
Reported: CPU seconds (one core), traced memory peak (tracemalloc, a second run), size and pages. Baseline,
same run: the same PDF from the rows loaded in a list first (what a plain ``list(queryset)`` would do), and the
streamed PDF of a fifth of the people — memory is flat when the full list's peak stays within a few MB of it.
Budget: ≤ 5 s CPU and a traced peak ≤ 32 MB for 5,000 people.

``picker``: ``health_posts`` over a programme of ``--programme`` beneficiaries in 100 health posts, about 70 %
of them reached. Median of 5 wall-clock runs after a warm-up (on whatever ``DATABASE_URL`` names; SQLite by
default). No budget: reported for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchenv import setup_django  # noqa: E402

BUDGET_S, BUDGET_MB = 5.0, 32.0


def populate(program, post: str, people: int, reached: int, offset: int = 0) -> None:
    from campaignid.distribution.models import Delivery
    from campaignid.lib import rows as fast
    from campaignid.programs.models import Beneficiary

    fast.insert(Beneficiary(program=program, enrollment_id=f"{post}-{offset + n:07d}", first_name="Mariétou",
                            last_name=f"Ndoye{n:07d}", phone=f"+2217{n:08d}", org_unit=post, org_unit_name="Ndiébène",
                            attributes={"household": f"HH{n // 4}"}) for n in range(people + reached))
    ids = Beneficiary.objects.filter(program=program, org_unit=post).order_by("id").values_list("id", flat=True)
    statuses = ("sent", "failed", "pending")
    fast.insert(Delivery(organisation=program.organisation, program=program, beneficiary_id=pk, channel="sms",
                         status="delivered" if k >= people else statuses[k % 3],
                         error_category="invalid_number" if k < people and k % 3 == 1 else "")
                for k, pk in enumerate(ids) if k % 4 or k >= people)


def draw(qs, materialise: bool) -> tuple[float, float, int, int]:
    from campaignid.distribution import unreached
    from campaignid.distribution.unreached_pdf import ListHeader, write_list

    header = ListHeader("Rougeole 2026", "Ndiébène", "toutes dates", date(2026, 12, 4), "fr")

    def once():
        items = unreached.present(list(qs)) if materialise else unreached.rows(qs)
        with tempfile.TemporaryFile() as out:
            people, pages = write_list(out, header, items, lambda r: r.reason)
            return people, pages, out.tell()

    start = time.process_time()
    people, pages, size = once()
    cpu = time.process_time() - start
    tracemalloc.start()
    once()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return cpu, peak, size, pages


def scenario_pdf(args, program, scope) -> dict:
    from campaignid.distribution import unreached

    populate(program, "PostBig0001", args.people, args.people)
    populate(program, "PostFifth01", args.people // 5, 0)
    cpu, peak, size, pages = draw(unreached.unreached(scope, program, "PostBig0001"), False)
    _, base_peak, _, _ = draw(unreached.unreached(scope, program, "PostBig0001"), True)
    _, fifth_peak, _, _ = draw(unreached.unreached(scope, program, "PostFifth01"), False)
    return {"people": args.people, "cpu_s": round(cpu, 3), "peak_mb": round(peak, 1), "size_kb": round(size / 1e3),
            "pages": pages, "baseline_materialised_peak_mb": round(base_peak, 1),
            "fifth_peak_mb": round(fifth_peak, 1), "budget_ok": cpu <= BUDGET_S and peak <= BUDGET_MB}


def scenario_picker(args, program, scope) -> dict:
    from campaignid.distribution import unreached

    per_post = args.programme // 100
    for i in range(100):
        populate(program, f"Post{i:07d}", int(per_post * 0.3), per_post - int(per_post * 0.3), offset=0)
    unreached.health_posts(scope, program)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        posts = unreached.health_posts(scope, program)
        times.append(time.perf_counter() - start)
    return {"beneficiaries": args.programme, "posts": len(posts), "median_ms": round(statistics.median(times) * 1e3)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--programme", type=int, default=100_000)
    parser.add_argument("--json")
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from campaignid.programs.access import Scope
    from campaignid.programs.models import Organisation, Program

    org = Organisation.objects.create(name="Bench", slug="bench")
    results = {"machine": platform.node(), "database": connection.vendor}
    for name, fn, uid, prefix in (("pdf", scenario_pdf, "BenchPdf001", "BPDF"),
                                  ("picker", scenario_picker, "BenchPick01", "BPICK")):
        program = Program.objects.create(organisation=org, name=name, dhis2_program_uid=uid, code_prefix=prefix)
        results[name] = fn(args, program, Scope(org))
        print(name, json.dumps(results[name]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0 if results["pdf"]["budget_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
