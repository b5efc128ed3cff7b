"""Reach by org unit benchmark: the report over a programme of a million deliveries.

    python bench/bench_reach.py [--deliveries 1000000] [--days 30] [--runs 40] [--json out.json]

Seeds a country of 14 regions, 5 districts each and 20 health posts per district (1,400 posts), about
0.7 beneficiary per delivery, deliveries over ``--days`` days (30; 1 is a campaign sent in one day) on every
channel and status (failures of several categories), created in id order as expansions create them, and a few
thousand online verifications. Then, on whatever ``DATABASE_URL`` names (SQLite by
default):

- ``rebuild_s``: the first refresh of the aggregates (every day recomputed), ``rebuild_reread_s`` the one after
  it (which reads the same ids again, as every refresh does for the one before);
- ``refresh_last_day_s``: a refresh after 10,000 receipts for the last day's deliveries, in id order as they are
  sent (a campaign's minute);
- ``refresh_reread_s``: the refresh after it, which reads the previous minute's ids again (late commits);
- ``idle_refresh_s``: a refresh with nothing new;
- ``refresh_spread_over_30_days_s``: 10,000 status changes spread over every delivery (the worst case: every
  range of ids is recomputed);
- ``report``: p50 / p95 wall-clock of ``reach.report`` for the top level, a region, a district, and the top level
  over one week, each ``--runs`` times after a warm-up;
- ``baseline``: the same top-level figures counted directly on the deliveries (one GROUP BY per report,
  what a report without aggregate tables does), p50 / p95 of a few runs.

Budget: report p95 ≤ 200 ms for every view. The rollup must equal the direct counts (checked).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchenv import machine, setup_django  # noqa: E402

BUDGET_MS = 200.0
REGIONS, DISTRICTS, POSTS = 14, 5, 20
START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
CHANNELS = ("sms", "sms", "whatsapp", "whatsapp", "print", "google_wallet")
STATUSES = ("delivered", "delivered", "read", "sent", "failed", "pending")
CATEGORIES = ("not_on_whatsapp", "invalid_number", "quota_exhausted", "no_recipient", "provider_error")


def uid(kind: str, n: int) -> str:
    return f"{kind}{n:0{11 - len(kind)}d}"


def seed_tree(org) -> list[str]:
    from campaignid.programs import org_units

    root = uid("Sn", 1)
    units = [{"id": root, "name": "Sénégal", "level": 1, "path": f"/{root}"}]
    posts = []
    for r in range(REGIONS):
        reg = uid("Reg", r)
        units.append({"id": reg, "name": f"Région {r:02d}", "level": 2, "path": f"/{root}/{reg}"})
        for d in range(DISTRICTS):
            dis = uid("Dis", r * DISTRICTS + d)
            units.append({"id": dis, "name": f"District {r:02d}-{d}", "level": 3, "path": f"/{root}/{reg}/{dis}"})
            for p in range(POSTS):
                post = uid("Ps", (r * DISTRICTS + d) * POSTS + p)
                units.append({"id": post, "name": f"Poste {post}", "level": 4, "path": f"/{root}/{reg}/{dis}/{post}"})
                posts.append(post)
    org_units.save_tree(org, units)
    return posts


def seed(program, posts: list[str], deliveries: int, days: int = 30) -> None:
    from campaignid.cards.models import Card, CardEvent
    from campaignid.distribution.models import Delivery
    from campaignid.lib import rows as fast
    from campaignid.programs.models import Beneficiary

    rng = random.Random(7)
    people = int(deliveries * 0.7)
    chunk = 50_000
    for start in range(0, people, chunk):
        fast.insert(Beneficiary(program=program, enrollment_id=f"E{n:09d}", first_name="Awa", last_name="Ndiaye",
                                phone="" if n % 23 == 0 else f"+2217{n:08d}", org_unit=posts[n % len(posts)],
                                opted_out=n % 97 == 0)
                    for n in range(start, min(people, start + chunk)))
    Beneficiary.objects.filter(program=program).update(updated_at=START)  # imported before the campaign
    first = Beneficiary.objects.filter(program=program).order_by("id").values_list("id", flat=True).first()
    for start in range(0, deliveries, chunk):
        rows = []
        for k in range(start, min(deliveries, start + chunk)):
            status = STATUSES[rng.randrange(len(STATUSES))]
            day, within = divmod(k * days / deliveries, 1)  # ids follow creation time, 10 hours a day
            at = START + timedelta(days=int(day), seconds=within * 36_000)
            rows.append(Delivery(organisation=program.organisation, program=program,
                                 beneficiary_id=first + k % people,
                                 channel=CHANNELS[rng.randrange(len(CHANNELS))], status=status, created_at=at,
                                 error_category=CATEGORIES[rng.randrange(len(CATEGORIES))]
                                 if status == "failed" else "",
                                 provider_message_id=f"m{k}"))
        fast.insert(rows)
        print(f"  seeded {min(deliveries, start + chunk):,} deliveries", flush=True)
    cards = [Card(program=program, beneficiary_id=first + (n * 97) % people, code=f"BENCH-{n:06d}", token=f"t{n}")
             for n in range(min(3000, people))]
    Card.objects.bulk_create(cards, batch_size=1000)
    ids = list(Card.objects.filter(program=program).values_list("id", flat=True))
    CardEvent.objects.bulk_create([CardEvent(card_id=c, kind="verified", actor="bench",
                                             at=START + timedelta(days=n % 30)) for n, c in enumerate(ids)],
                                  batch_size=1000)


def timed(fn, runs: int) -> dict:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 1)}


def naive_top(program) -> dict:
    """The top level counted on the deliveries: one GROUP BY over every delivery of the programme."""
    from django.db.models import Count

    from campaignid.distribution.models import Delivery
    from campaignid.distribution.reach_rollup import STATUS_SETS

    return {r["beneficiary__org_unit"]: r for r in Delivery.objects.filter(program=program)
            .values("beneficiary__org_unit").order_by()
            .annotate(**{k: Count("id", filter=q) for k, q in STATUS_SETS.items()})}


def change_statuses(program, n: int, last_day_only: bool, days: int = 30) -> None:
    """``n`` deliveries get their receipt (delivered), each with its status event. The last day's: ``n``
    consecutive deliveries (ids) of that day, as a campaign's minute of sending and receipts goes through
    them in id order; otherwise ``n`` deliveries drawn over the whole programme (the worst case)."""
    from django.utils import timezone

    from campaignid.distribution.models import Delivery, DeliveryEvent

    qs = Delivery.objects.filter(program=program).exclude(channel="print")
    if last_day_only:
        qs = qs.filter(created_at__gte=START + timedelta(days=max(0, days - 1)))
        ids = list(qs.order_by("id").values_list("id", flat=True)[n:2 * n])  # a minute in the middle of the day
    else:
        ids = list(qs.order_by("?").values_list("id", flat=True)[:n])
    Delivery.objects.filter(id__in=ids).update(status="delivered", delivered_at=timezone.now())
    DeliveryEvent.objects.bulk_create([DeliveryEvent(delivery_id=i, kind="status", status="delivered",
                                                     source="webhook") for i in ids], batch_size=2000)


def seconds(fn) -> float:
    started = time.perf_counter()
    fn()
    return round(time.perf_counter() - started, 2)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30, help="days the deliveries were created over")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--json")
    args = parser.parse_args()
    host = machine()
    setup_django()
    from django.db import connection

    from campaignid.distribution import reach, reach_rollup
    from campaignid.distribution.unreached import Period
    from campaignid.programs.access import Scope
    from campaignid.programs.models import Membership, Organisation, Program

    org = Organisation.objects.create(name="Bench", slug="bench")
    program = Program.objects.create(organisation=org, name="Rougeole", dhis2_program_uid="BenchReach1",
                                     code_prefix="RR")
    began = time.perf_counter()
    posts = seed_tree(org)
    seed(program, posts, args.deliveries, args.days)
    seeded = time.perf_counter() - began
    scope = Scope(org, None, Membership.ADMIN)
    refresh = lambda: reach_rollup.refresh(program)  # noqa: E731
    rebuild = seconds(refresh)
    settle = seconds(refresh)  # reads the rebuild's ids once more (a late commit would be among them)
    change_statuses(program, 10_000, last_day_only=True, days=args.days)
    minute = seconds(refresh)
    reread = seconds(refresh)
    idle = seconds(refresh)
    change_statuses(program, 10_000, last_day_only=False)
    spread = seconds(refresh)
    refresh()

    top = reach.report(scope, program)
    direct = naive_top(program)
    for key in reach_rollup.STATUS_SETS:  # the aggregates equal the direct counts
        assert top.total.counts[key] == sum(r[key] for r in direct.values()), key
    region, district = top.rows[0].uid, reach.report(scope, program, parent=top.rows[0].uid).rows[0].uid
    week = Period(date(2026, 11, 8), date(2026, 11, 14))
    views = {"top": lambda: reach.report(scope, program),
             "region": lambda: reach.report(scope, program, parent=region),
             "district": lambda: reach.report(scope, program, parent=district),
             "top_one_week": lambda: reach.report(scope, program, week)}
    report = {name: timed(fn, args.runs) for name, fn in views.items()}
    baseline = timed(lambda: naive_top(program), 4)
    worst = max(v["p95_ms"] for v in report.values())
    results = {"machine": host, "database": connection.vendor, "deliveries": args.deliveries,
               "days": args.days, "health_posts": len(posts),
               "seed_s": round(seeded, 1), "rebuild_s": rebuild, "rebuild_reread_s": settle,
               "refresh_last_day_s": minute,
               "refresh_reread_s": reread, "idle_refresh_s": idle, "refresh_spread_over_30_days_s": spread,
               "report": report, "baseline_direct_top": baseline,
               "speedup_top_p50": round(baseline["p50_ms"] / max(report["top"]["p50_ms"], 0.1), 1),
               "budget_ms": BUDGET_MS, "budget_ok": worst <= BUDGET_MS}
    print(json.dumps(results, indent=2), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0 if results["budget_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
