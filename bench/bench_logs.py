"""Delivery logs over one million deliveries on PostgreSQL: filtered first pages and deep pages (keyset)
against OFFSET pagination, and the streaming CSV export against "load everything, then write", in the
same run.

    python bench/bench_logs.py [--rows 1000000] [--json out.json]

Needs PostgreSQL (BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres); creates and
drops its own database. Budgets (DESIGN.md): p95 <= 100 ms per query; CSV >= 50,000 rows/s, flat memory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlparse

import psycopg

HERE = Path(__file__).resolve().parent
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB_NAME = "campaignid_bench_logs"


def create_database() -> str:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    parsed = urlparse(ADMIN_URL)
    return parsed._replace(path=f"/{DB_NAME}").geturl()


def drop_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def seed(rows: int) -> dict:
    """One organisation, two programmes, 50,000 beneficiaries, ``rows`` deliveries over 90 days."""
    from django.db import connection

    from campaignid.distribution.models import Batch
    from campaignid.programs.models import Organisation, Program

    org = Organisation.objects.create(name="bench", slug="bench")
    other = Organisation.objects.create(name="other", slug="other")
    programs = [Program.objects.create(organisation=org, name=f"P{i}", dhis2_program_uid=f"IpHINAT79U{i}",
                                       code_prefix=f"BEN-{i}") for i in range(2)]
    batch = Batch.objects.create(organisation=org, program=programs[0], channels=["whatsapp"])
    with connection.cursor() as cur:
        cur.execute("""
            INSERT INTO programs_beneficiary (program_id, enrollment_id, tei_uid, first_name, last_name, phone,
                sex, org_unit, org_unit_name, attributes, source, enrollment_status, opted_out, active,
                created_at, updated_at)
            SELECT %s, 'E' || lpad(g::text, 7, '0'), '', 'Aminata', 'Diallo', '+22177' || lpad(g::text, 7, '0'),
                   'F', 'DiszpKrYNg8', 'Ngelehun CHC', '{}', 'dhis2', 'ACTIVE', false, true, now(), now()
            FROM generate_series(1, 50000) g""", [programs[0].pk])
        cur.execute("SELECT min(id) FROM programs_beneficiary")
        first = cur.fetchone()[0]
        cur.execute("""
            INSERT INTO distribution_delivery (organisation_id, program_id, beneficiary_id, batch_id, channel,
                status, recipient, recipient_masked, message, provider_account, provider_message_id, attempts,
                error_code, error_category, error_detail, retryable, created_at, updated_at, sent_at)
            SELECT CASE WHEN g %% 50 = 0 THEN %s ELSE %s END, %s, %s + (g %% 50000),
                   CASE WHEN g %% 20 = 0 THEN %s ELSE NULL END,
                   (ARRAY['whatsapp','sms','google_wallet'])[1 + g %% 3],
                   (ARRAY['pending','sent','delivered','read','failed'])[1 + (g / 7) %% 5],
                   '', '+22177***' || lpad((g %% 10000)::text, 4, '0'), '', 'whatsapp:1', 'wamid.' || g, 1,
                   '', '', '', false, now() - (g %% 7776000) * interval '1 second', now(), now()
            FROM generate_series(1, %s) g""", [other.pk, org.pk, programs[0].pk, first, batch.pk, rows])
        cur.execute("ANALYZE distribution_delivery")
    return {"org": org, "batch": batch.pk, "first_beneficiary": first, "rows": rows}


def timed(fn, runs: int) -> dict:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 2),
            "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2)}


def queries(ctx: dict) -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from campaignid.distribution import logs
    from campaignid.programs.access import Scope

    scope = Scope(ctx["org"])
    week = (timezone.now() - timedelta(days=30)).isoformat(), (timezone.now() - timedelta(days=23)).isoformat()
    middle = ctx["rows"] // 2
    deep_cursor = logs.encode_cursor(logs.filtered(scope, {}).order_by("-created_at", "-id")[middle])
    cases = {
        "first page, no filter": lambda: logs.page(logs.filtered(scope, {}), None, 100),
        "channel + status": lambda: logs.page(logs.filtered(scope, {"channel": "sms", "status": "failed"}), None, 100),
        "one week": lambda: logs.page(logs.filtered(scope, {"date_from": week[0], "date_to": week[1]}), None, 100),
        "one beneficiary": lambda: logs.page(
            logs.filtered(scope, {"beneficiary": f"E{random.randint(1, 49999):07d}"}), None, 100),
        "one batch": lambda: logs.page(logs.filtered(scope, {"batch": ctx["batch"]}), None, 100),
        "middle page (keyset cursor)": lambda: logs.page(logs.filtered(scope, {}), deep_cursor, 100),
    }
    out = {name: timed(fn, 40) for name, fn in cases.items()}

    def offset_page():
        qs = logs.filtered(scope, {}).select_related("program", "beneficiary", "card").order_by("-created_at", "-id")
        return list(qs[middle:middle + 100])

    out["baseline: middle page (OFFSET)"] = timed(offset_page, 10)
    return out


def export(ctx: dict) -> dict:
    import csv
    import io

    from campaignid.distribution import logs
    from campaignid.programs.access import Scope

    qs = logs.filtered(Scope(ctx["org"]), {})
    total = qs.count()
    tracemalloc.start()
    start = time.perf_counter()
    size = sum(len(chunk) for chunk in logs.csv_stream(qs))
    ours = time.perf_counter() - start
    ours_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    start = time.perf_counter()
    rows = list(qs.order_by("-created_at", "-id").values_list(*[f for _, f in logs.COLUMNS]))
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    naive = time.perf_counter() - start
    naive_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"rows": total, "csv_mb": round(size / 1e6, 1), "ours_rows_per_s": round(total / ours),
            "ours_peak_mb": round(ours_peak / 1e6, 1), "baseline_rows_per_s": round(total / naive),
            "baseline_peak_mb": round(naive_peak / 1e6, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json")
    args = parser.parse_args()
    try:
        os.environ["DATABASE_URL"] = create_database()
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL is not reachable at {ADMIN_URL}: {exc}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(HERE))
    import benchenv

    try:
        benchenv.setup_django()
        start = time.perf_counter()
        ctx = seed(args.rows)
        result = {"rows": args.rows, "seed_s": round(time.perf_counter() - start, 1), "queries": queries(ctx),
                  "export": export(ctx)}
    finally:
        from django.db import connections

        connections.close_all()
        drop_database()
    worst = max(v["p95_ms"] for k, v in result["queries"].items() if not k.startswith("baseline"))
    result["ok"] = worst <= 100 and result["export"]["ours_rows_per_s"] >= 50_000
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
