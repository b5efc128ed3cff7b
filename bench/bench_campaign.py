"""Campaign benchmark: one bulk SMS distribution through the public API, end to end, with the web server,
the workers and the sandboxes each in their own processes — the whole path a programme officer triggers.

    python bench/bench_campaign.py [--n 100000] [--full] [--backend sqlite|postgres|both]
                                   [--workers 1,2,4] [--baseline-n N] [--json out.json]

For each backend and worker count, in one fresh database:
  1. seed ``n`` beneficiaries with realistic phone numbers across the Orange countries;
  2. **baseline, same run**: a distribution of ``baseline-n`` beneficiaries is created through the API while
     held (scheduled), every delivery is created, then it is released: sending pre-created deliveries
     (send + status application) — the rate the end-to-end run is compared with;
  3. **end to end**: ``POST /api/v1/distributions`` for the ``n`` beneficiaries, timed until the last
     delivery has its final status from the provider's receipts (creation + send + status application);
  4. at that size: logs API p95, CSV export rate, database bytes per delivery, CPU seconds per 1,000
     deliveries of the worker processes and of the web processes (receipts), peak RSS per process.

The Orange sandbox runs without a rate limit, with bundles large enough and receipts after 20 ms, so that
the engine is what is measured. ``--full`` is ``--n 1000000 --backend postgres``. Budgets (DESIGN.md):
end to end >= 90 % of the pre-created rate; worker CPU per delivery end to end <= 1.2x sending alone;
2 workers >= 1.7x one (where the machine has the cores); <= 1 KB per delivery at rest on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchenv  # noqa: E402  (the bench folder's shared set-up; nothing of the service is imported here)

PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("BENCH_POSTGRES_DB", "campaignid_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
WEBHOOK_SECRET = "bench-receipts-secret"
# (dial code, national prefixes, national digits after the prefix) of Orange mobile numbers.
COUNTRIES = [("221", ["77", "78"], 7), ("225", ["07"], 8), ("223", ["7", "8"], 7), ("226", ["07", "54"], 6),
             ("224", ["62"], 7), ("237", ["69", "655"], 7)]
CLK = os.sysconf("SC_CLK_TCK")


# --- processes -----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree(pid: int) -> list[int]:
    """The process and all its descendants (gunicorn master and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK  # utime + stime
    return total


def rss_mb(pid: int) -> float:
    """The current resident set (VmRSS) of the process and its descendants, summed."""
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def peak_rss_mb(pid: int) -> float:
    """The largest peak resident set (VmHWM) among the process and its descendants."""
    peak = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return round(peak / 1024, 1)


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - local
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


# --- HTTP ---------------------------------------------------------------------------------------------
def call(base: str, method: str, path: str, token: str, body=None, timeout: float = 120):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - local
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from None


def control(sandbox: str, path: str, payload) -> None:
    req = urllib.request.Request(sandbox + "/control" + path, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()  # noqa: S310 - local


# --- one configuration (runs in a child process: one Django set-up per database) -----------------------
def child_env(cfg: dict, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env.update(DJANGO_SETTINGS_MODULE="campaignid.settings", CAMPAIGNID_DATA_DIR=str(data),
               CAMPAIGNID_SANDBOX="true", SANDBOX_URL=cfg["sandbox"], CAMPAIGNID_PUBLIC_URL=cfg["web"],
               ORANGE_WEBHOOK_SECRET=WEBHOOK_SECRET, ORANGE_RATE_PER_SECOND="10000", LOG_LEVEL="WARNING")
    if cfg["backend"] == "postgres":
        env["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_DB
        env["QUEUE_URL"] = REDIS_URL
    return env


def reset_backend(backend: str) -> None:
    if backend != "postgres":
        return
    import psycopg
    import redis

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")
    redis.Redis.from_url(REDIS_URL).flushdb()


def postgres_autovacuum() -> str:
    """``on`` as PostgreSQL ships. Off (test servers often turn it off), a run measures what a deployment never
    sees: dead row versions piling up and statistics of an empty table, so the log queries sort every row."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        value = conn.execute("SHOW autovacuum").fetchone()[0]
    if value != "on":
        print("WARNING: autovacuum is off on this PostgreSQL server; a deployment runs with it on "
              "(ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf()). The figures below include its "
              "absence.", file=sys.stderr, flush=True)
    return value


def phone(rng: random.Random) -> str:
    dial, prefixes, digits = rng.choice(COUNTRIES)
    prefix = rng.choice(prefixes)
    rest = digits - (len(prefix) - 2) if len(prefix) > 2 else digits
    return f"+{dial}{prefix}{rng.randrange(10 ** (rest - 1), 10 ** rest)}"


def seed(n_base: int, n: int) -> tuple[str, str, str]:
    """Two programmes (baseline and end to end) and an API token; returns (token, base uid, e2e uid)."""
    from django.contrib.auth import get_user_model

    from campaignid.channels.models import ChannelConfig
    from campaignid.programs.models import ApiToken, Beneficiary, Membership, Organisation, Program

    rng = random.Random(7)
    org = Organisation.objects.create(name="Bench ministry", slug="bench")
    user = get_user_model().objects.create_user("bench", password="bench-password-123")
    Membership.objects.create(user=user, organisation=org, role=Membership.ADMIN)
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": 10000})
    uids = []
    for uid, prefix, size in (("BenchBase01", "BEN-CH", n_base), ("BenchCampa1", "CAM-PA", n)):
        program = Program.objects.create(organisation=org, name=f"Campagne {prefix}", dhis2_program_uid=uid,
                                         code_prefix=prefix, options={"quiet_hours": None})
        for start in range(0, size, 20_000):
            Beneficiary.objects.bulk_create(
                [Beneficiary(program=program, enrollment_id=f"{prefix}{i:07d}", first_name="Aïssatou",
                             last_name="Ndiaye", phone=phone(rng), org_unit="DiszpKrYNg8", source="dhis2")
                 for i in range(start, min(size, start + 20_000))], batch_size=5_000)
        uids.append(uid)
    _, token = ApiToken.issue(user, org, "bench")
    return token, uids[0], uids[1]


def unfinished(batch_id: str) -> int:
    from campaignid.distribution.models import Delivery

    return Delivery.objects.filter(batch_id=batch_id, status__in=["pending", "sent"]).count()


SANDBOX = {"url": ""}


def sandbox_tasks() -> str:
    """The sandbox's background tasks (receipts waiting to be POSTed or retried): a pile that grows means the
    receipts are not being taken; "no answer" means its event loop is stuck."""
    try:
        with urllib.request.urlopen(SANDBOX["url"] + "/control/pending", timeout=5) as resp:  # noqa: S310
            return str(json.loads(resp.read())["pending"])
    except (OSError, ValueError, KeyError):
        return "no answer"


def wait_done(batch_id: str, total: int, timeout: float, stall: float = 180.0,
              procs: dict | None = None) -> tuple[float, list, int]:
    """Wait until every delivery of the batch exists and has a final status. Returns the time it took,
    (seconds, finished, {process: RSS MB}) samples for the throughput and memory curve, and how many never
    finished: a run stops when nothing moved for ``stall`` seconds (lost receipts must show, not hang the
    benchmark). Progress goes to stderr every 30 s, so a long run can be followed."""
    from campaignid.distribution.models import Batch, Delivery

    started, samples = time.monotonic(), []
    last_change, last_done, last_print = started, -1, started
    while time.monotonic() - started < timeout:
        batch = Batch.objects.get(pk=batch_id)
        created = Delivery.objects.filter(batch_id=batch_id).count() if batch.expanded_at is None else total
        left = unfinished(batch_id) if created >= total else total - created + unfinished(batch_id)
        now = time.monotonic()
        rss = {name: rss_mb(p.pid) for name, p in (procs or {}).items()}
        samples.append((round(now - started, 1), total - left, rss))
        if now - last_print >= 30:
            last_print = now
            print(f"[{now - started:7.0f} s] created {created:,} finished {total - left:,} of {total:,} "
                  f"({(total - left) / (now - started):.1f}/s) RSS MB {rss} sandbox tasks {sandbox_tasks()}",
                  file=sys.stderr, flush=True)
        if batch.expanded_at and left == 0:
            return now - started, samples, 0
        if total - left != last_done:
            last_change, last_done = now, total - left
        elif now - last_change > stall:
            return last_change - started, samples, left
        # The poll counts the batch's unfinished rows: keep it a small share of a core at a million.
        time.sleep(0.3 if total <= 50_000 else 1.0 if total <= 200_000 else 5.0)
    raise RuntimeError(f"batch {batch_id} not finished after {timeout:.0f} s ({unfinished(batch_id)} left)")


def measure_phase(procs: dict, fn) -> dict:
    before = {name: cpu_seconds(p.pid) for name, p in procs.items()}
    seconds = fn()
    after = {name: cpu_seconds(p.pid) for name, p in procs.items()}
    return {"seconds": seconds, "cpu": {name: after[name] - before[name] for name in procs}}


def baseline(web: str, token: str, uid: str, n: int, procs: dict) -> dict:
    """Create every delivery while held, then release them: sending pre-created deliveries."""
    from django.utils import timezone

    from campaignid.distribution.models import Batch, Delivery

    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    batch = call(web, "POST", "/api/v1/distributions", token, {"programme": uid, "channel": "sms",
                                                                 "scheduled_at": later})
    deadline = time.monotonic() + 3600
    while not Batch.objects.get(pk=batch["id"]).expanded_at:
        if time.monotonic() > deadline:
            raise RuntimeError("baseline batch was not created")
        time.sleep(0.5)
    call(web, "POST", f"/api/v1/distributions/{batch['id']}/pause", token)
    now = timezone.now()
    Delivery.objects.filter(batch_id=batch["id"], status="pending").update(next_attempt_at=now)
    Batch.objects.filter(pk=batch["id"]).update(scheduled_at=None)

    def run() -> float:
        call(web, "POST", f"/api/v1/distributions/{batch['id']}/resume", token)
        seconds, _, run.stuck = wait_done(batch["id"], n, timeout=7200, procs=procs)
        return seconds

    out = measure_phase(procs, run)
    return {"batch": batch["id"], "per_s": round(n / out["seconds"], 1), "unfinished": run.stuck, **out}


def end_to_end(web: str, token: str, uid: str, n: int, procs: dict) -> dict:
    from campaignid.distribution.models import Batch

    samples: list = []

    def run() -> float:
        nonlocal samples
        start = time.monotonic()
        batch = call(web, "POST", "/api/v1/distributions", token, {"programme": uid, "channel": "sms"})
        run.batch_id = batch["id"]
        posted = time.monotonic() - start
        seconds, samples, run.stuck = wait_done(batch["id"], n, timeout=4 * 3600, procs=procs)
        return posted + seconds

    out = measure_phase(procs, run)
    b = Batch.objects.get(pk=run.batch_id)
    created = (b.expanded_at - b.created_at).total_seconds() if b.expanded_at else None
    return {"batch": run.batch_id, "per_s": round(n / out["seconds"], 1), "create_seconds": created,
            "unfinished": run.stuck, "curve": curve(samples), **out}


def curve(samples: list[tuple[float, int, dict]]) -> list[dict]:
    """Throughput per tenth of the run (finished deliveries per second), to see decay as tables grow, with
    each process's resident memory at the end of that tenth (memory must stay flat)."""
    if len(samples) < 3:
        return []
    end = samples[-1][0]
    out, prev_t, prev_n = [], 0.0, 0
    for tenth in range(1, 11):
        t_goal = end * tenth / 10
        t, done, rss = next((s for s in samples if s[0] >= t_goal), samples[-1])
        if t > prev_t:
            out.append({"until_s": t, "finished": done, "per_s": round((done - prev_n) / (t - prev_t), 1),
                        "rss_mb": rss})
        prev_t, prev_n = t, done
    return out


def logs_and_export(web: str, token: str, uid: str, batch_id: str) -> dict:
    queries = [f"/api/v1/deliveries?programme={uid}&limit=100", f"/api/v1/deliveries?batch={batch_id}&limit=100",
               f"/api/v1/deliveries?programme={uid}&status=failed&limit=100",
               f"/api/v1/deliveries?programme={uid}&channel=sms&status=delivered&limit=100",
               "/api/v1/deliveries?beneficiary=CAM-PA0000042&limit=100"]
    times, by_query = [], {q: [] for q in queries}
    for _ in range(10):
        for q in queries:
            t = time.perf_counter()
            call(web, "GET", q, token)
            by_query[q].append(time.perf_counter() - t)
            times.append(by_query[q][-1])
    times.sort()
    t = time.perf_counter()
    req = urllib.request.Request(f"{web}/api/v1/deliveries/export.csv?batch={batch_id}",
                                 headers={"Authorization": f"Bearer {token}"})
    rows = 0
    with urllib.request.urlopen(req, timeout=3600) as resp:  # noqa: S310 - local
        for _ in resp:
            rows += 1
    export = time.perf_counter() - t
    return {"logs_p95_ms": round(1000 * times[int(len(times) * 0.95) - 1], 1),
            "logs_median_ms": round(1000 * times[len(times) // 2], 1),
            "logs_median_ms_by_query": {q.split("?", 1)[1]: round(1000 * sorted(ts)[len(ts) // 2], 1)
                                        for q, ts in by_query.items()},
            "csv_rows": rows - 1, "csv_rows_per_s": round((rows - 1) / export)}


def database_bytes(backend: str, data: Path) -> dict:
    from django.db import connection

    from campaignid.distribution.models import Delivery, DeliveryEvent

    deliveries, events = Delivery.objects.count(), DeliveryEvent.objects.count()
    if backend == "postgres":
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
            cur.execute("SELECT pg_total_relation_size('distribution_delivery'), "
                        "pg_total_relation_size('distribution_deliveryevent'), pg_database_size(current_database())")
            d_bytes, e_bytes, db_bytes = cur.fetchone()
            # Each delivery is rewritten 3-4 times (claimed, handed over, sent, delivered): right after a run the
            # files still hold the old row versions, space that vacuum hands to the next campaign's rows. What the
            # rows themselves need at rest is the size once compacted.
            cur.execute("VACUUM FULL distribution_delivery, distribution_deliveryevent")
            cur.execute("SELECT pg_total_relation_size('distribution_delivery') "
                        "+ pg_total_relation_size('distribution_deliveryevent')")
            compacted = cur.fetchone()[0]
            # Where the bytes at rest go: each table's rows (heap and TOAST) and each of its indexes.
            cur.execute("SELECT c.relname, pg_table_size(c.oid) FROM pg_class c WHERE c.relname IN "
                        "('distribution_delivery', 'distribution_deliveryevent') UNION ALL "
                        "SELECT i.relname, pg_relation_size(i.oid) FROM pg_index x "
                        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                        "WHERE t.relname IN ('distribution_delivery', 'distribution_deliveryevent')")
            parts = {name: round(size / deliveries) for name, size in cur.fetchall()}
    else:
        with connection.cursor() as cur:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            try:
                cur.execute("SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE 'distribution_delivery%' "
                            "GROUP BY name")
                sizes = dict(cur.fetchall())
            except Exception:  # noqa: BLE001 - dbstat is optional in SQLite builds
                sizes = {}
        d_bytes = sum(v for k, v in sizes.items() if "event" not in k) or None
        e_bytes = sum(v for k, v in sizes.items() if "event" in k) or None
        db_bytes = (data / "campaignid.sqlite3").stat().st_size
        compacted, parts = None, {}
    per = (d_bytes + e_bytes) / deliveries if d_bytes and e_bytes else None
    return {"deliveries": deliveries, "events": events, "events_per_delivery": round(events / deliveries, 2),
            "delivery_tables_bytes_per_delivery": round(per) if per else None,
            "delivery_tables_bytes_per_delivery_compacted": round(compacted / deliveries) if compacted else None,
            "database_bytes_per_delivery": round(db_bytes / deliveries), "database_mb": round(db_bytes / 2**20, 1),
            "compacted_bytes_per_delivery_by_relation": parts}


def run_child(cfg: dict) -> dict:
    data = Path(tempfile.mkdtemp(prefix="campaignid-campaign-"))
    cfg["web"], cfg["sandbox"] = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    env = child_env(cfg, data)
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    t = time.perf_counter()
    token, base_uid, e2e_uid = seed(cfg["baseline_n"], cfg["n"])
    seed_s = time.perf_counter() - t
    sandbox_port = cfg["sandbox"].rsplit(":", 1)[1]
    procs = {}
    started = []
    logs_open = []
    keep = True

    def logfile(name: str):
        logs_open.append(open(data / f"{name}.log", "w"))  # noqa: SIM115 - closed when the run ends
        return logs_open[-1]

    try:
        SANDBOX["url"] = cfg["sandbox"]
        sb = subprocess.Popen([sys.executable, "-m", "campaignid.sandbox", "--port", sandbox_port,  # noqa: S603
                               "--data-dir", str(data / "sandbox")], env=env, start_new_session=True,
                              stdout=logfile("sandbox"), stderr=subprocess.STDOUT)
        started.append(sb)
        wait_http(cfg["sandbox"] + "/control/pending")
        control(cfg["sandbox"], "/orange/config", {"rate_limit": 0, "dr_default": "terminal", "dr_delay_ms": 20,
                                                   "dr_url": f"{cfg['web']}/webhooks/orange-sms/{WEBHOOK_SECRET}"})
        for iso3 in ("SEN", "CIV", "MLI", "BFA", "GIN", "CMR"):
            control(cfg["sandbox"], "/orange/bundles", {"country": iso3, "units": 50_000_000, "mode": "set"})
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "campaignid.wsgi:application",  # noqa: S603
                                "--bind", cfg["web"].removeprefix("http://"), "--workers", str(cfg["web_workers"]),
                                "--threads", "8", "--worker-class", "gthread", "--log-level", "warning"],
                               env=env, start_new_session=True, stdout=logfile("web"), stderr=subprocess.STDOUT)
        started.append(web)
        wait_http(cfg["web"] + "/health")
        procs["web"] = web
        for i in range(cfg["workers"]):
            w = subprocess.Popen([sys.executable, "-m", "campaignid.cli", "worker", "--workers", "4"],  # noqa: S603
                                 env=env, start_new_session=True, stdout=logfile(f"worker{i}"),
                                 stderr=subprocess.STDOUT)
            started.append(w)
            procs[f"worker{i}"] = w
        time.sleep(2)
        base = baseline(cfg["web"], token, base_uid, cfg["baseline_n"], procs)
        e2e = end_to_end(cfg["web"], token, e2e_uid, cfg["n"], procs)
        logs = logs_and_export(cfg["web"], token, e2e_uid, e2e["batch"])
        rss = {name: peak_rss_mb(p.pid) for name, p in procs.items()}
        rss["sandbox"] = peak_rss_mb(sb.pid)
        keep = bool(base["unfinished"] or e2e["unfinished"])  # a run that failed or stalled keeps its logs
    finally:
        stop(started)
        for f in logs_open:
            f.close()
        if keep:
            print(f"run not complete: the processes' logs are kept in {data}", file=sys.stderr, flush=True)
    disk = database_bytes(cfg["backend"], data)
    if not keep:
        shutil.rmtree(data, ignore_errors=True)
    return summarise(cfg, seed_s, base, e2e, logs, rss, disk)


def summarise(cfg, seed_s, base, e2e, logs, rss, disk) -> dict:
    def per_1000(phase, n, prefix):
        return round(1000 * sum(v for k, v in phase["cpu"].items() if k.startswith(prefix)) / n, 2)

    out = {"backend": cfg["backend"], "workers": cfg["workers"], "n": cfg["n"], "baseline_n": cfg["baseline_n"],
           "seed_seconds": round(seed_s, 1),
           "create_seconds": e2e["create_seconds"] and round(e2e["create_seconds"], 1),
           "e2e_per_s": e2e["per_s"], "precreated_per_s": base["per_s"],
           "unfinished": {"precreated": base["unfinished"], "e2e": e2e["unfinished"]},
           "e2e_vs_precreated": round(e2e["per_s"] / base["per_s"], 3),
           "worker_cpu_s_per_1000_e2e": per_1000(e2e, cfg["n"], "worker"),
           "worker_cpu_s_per_1000_precreated": per_1000(base, cfg["baseline_n"], "worker"),
           "web_cpu_s_per_1000_e2e": per_1000(e2e, cfg["n"], "web"),
           "peak_rss_mb": rss, **logs, **disk, "curve": e2e["curve"]}
    out["worker_cpu_ratio"] = (round(out["worker_cpu_s_per_1000_e2e"] / out["worker_cpu_s_per_1000_precreated"], 2)
                               if out["worker_cpu_s_per_1000_precreated"] else None)
    return out


# --- orchestration -------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="beneficiaries of the campaign (default 100,000)")
    parser.add_argument("--full", action="store_true", help="1,000,000 beneficiaries on PostgreSQL + Redis")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts to run (default 1,2,4)")
    parser.add_argument("--baseline-n", type=int, help="size of the pre-created baseline (default min(n, 50,000))")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(run_child(json.loads(args.child))), flush=True)
        return 0
    if args.full:
        args.n, args.backend = 1_000_000, "postgres"
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = {"machine": benchenv.machine(), "runs": []}
    if "postgres" in backends:
        results["machine"]["postgres_autovacuum"] = postgres_autovacuum()
    print(json.dumps(results["machine"]), flush=True)
    for backend in backends:
        for workers in [int(w) for w in args.workers.split(",")]:
            reset_backend(backend)
            cfg = {"backend": backend, "workers": workers, "n": args.n, "web_workers": args.web_workers,
                   "baseline_n": args.baseline_n or min(args.n, 50_000)}
            # The child's stderr (progress, errors) goes straight to ours; its stdout carries the result.
            proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(cfg)],  # noqa: S603
                                  stdout=subprocess.PIPE, text=True, cwd=ROOT)
            line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
            if line is None:
                print(proc.stdout[-3000:], file=sys.stderr)
                return 1
            result = json.loads(line.removeprefix("RESULT "))
            results["runs"].append(result)
            print(json.dumps({k: v for k, v in result.items() if k != "curve"}), flush=True)
    print_budgets(results["runs"])
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def print_budgets(runs: list[dict]) -> None:
    for r in runs:
        print(f"{r['backend']:8} {r['workers']} worker(s) n={r['n']:,}: end to end {r['e2e_per_s']}/s = "
              f"{100 * r['e2e_vs_precreated']:.0f} % of pre-created ({r['precreated_per_s']}/s; budget >= 90 %); "
              f"worker CPU {r['worker_cpu_s_per_1000_e2e']} s/1000 = {r['worker_cpu_ratio']}x sending alone "
              f"(budget <= 1.2); delivery tables {r['delivery_tables_bytes_per_delivery']} B/delivery after the run, "
              f"{r.get('delivery_tables_bytes_per_delivery_compacted')} B compacted (budget <= 1,024 on PostgreSQL); "
              f"whole database {r['database_bytes_per_delivery']} B/delivery")
    by = {(r["backend"], r["workers"]): r["e2e_per_s"] for r in runs}
    for backend in {r["backend"] for r in runs}:
        if (backend, 1) in by and (backend, 2) in by:
            ratio = by[(backend, 2)] / by[(backend, 1)]
            print(f"{backend}: 2 workers = {ratio:.2f}x one (budget >= 1.7 where the machine has the cores)")


if __name__ == "__main__":
    sys.exit(main())
