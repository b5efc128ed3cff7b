"""Send-pipeline benchmark: our engine (claim chunks, concurrent sends over one aiohttp session, shared
pacing, bulk DB writes) against a naive sequential sender (one send at a time, one row saved at a time),
both measured in the same run against the sandboxes running in their own process.

    python bench/bench_pipeline.py [--quick] [--json results.json]

Scenarios (budgets in DESIGN.md):
  sms-0ms        Orange sandbox, no added latency, no rate limit: deliveries/s with DB writes (>= 1,000/s)
  whatsapp-200ms Meta sandbox, 200 ms per call, 80 msg/s per number: share of the provider rate (>= 95 %)
                 and throttling errors (must be 0)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchenv  # noqa: E402

benchenv.setup_django()

from django.conf import settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaignid.cards import service as cards  # noqa: E402
from campaignid.channels import config as channel_config  # noqa: E402
from campaignid.channels.base import SendError  # noqa: E402
from campaignid.channels.models import ChannelConfig  # noqa: E402
from campaignid.distribution import compose, dispatch  # noqa: E402
from campaignid.distribution.models import Batch, Delivery, DeliveryEvent, Status  # noqa: E402
from campaignid.lib.http import client_session  # noqa: E402
from campaignid.lib.mask import mask_phone  # noqa: E402
from campaignid.programs.models import Beneficiary, Organisation, Program  # noqa: E402


def make_programme(slug: str, n: int, channel: str, rate: float, **channel_settings) -> tuple[Program, Batch]:
    org = Organisation.objects.create(name=slug, slug=slug)
    program = Program.objects.create(organisation=org, name=f"Bench {slug}", dhis2_program_uid="IpHINAT79UW",
                                     code_prefix=slug.upper()[:6], options={"quiet_hours": None})
    Beneficiary.objects.bulk_create(
        Beneficiary(program=program, enrollment_id=f"{slug}-{i:06d}", first_name="Aminata", last_name="Diallo",
                    phone=f"+22177{3000000 + i:07d}") for i in range(n))
    ChannelConfig.objects.create(organisation=org, channel=channel,
                                 settings={"rate_per_second": rate, **channel_settings})
    batch = Batch.objects.create(organisation=org, program=program, channels=[channel], state=Batch.State.RUNNING)
    return program, batch


def make_deliveries(program: Program, batch: Batch | None, channel: str, render: bool) -> list[int]:
    account = channel_config.build(channel, program.organisation_id, program.pk).account_key
    now = timezone.now()
    rows = []
    for b in Beneficiary.objects.filter(program=program).select_related("program"):
        card, _ = cards.issue_card(b, "bench")
        if render:
            cards.card_png(card)
        rows.append(Delivery(organisation_id=program.organisation_id, program=program, beneficiary=b, card=card,
                             batch=batch, channel=channel, recipient=b.phone, recipient_masked=mask_phone(b.phone),
                             provider_account=account, next_attempt_at=now))
    Delivery.objects.bulk_create(rows, batch_size=1000)
    return list(Delivery.objects.filter(program=program).values_list("id", flat=True))


def _dispatch_until_done(batch: Batch) -> None:
    from django.db import close_old_connections

    try:
        while True:
            if not dispatch.dispatch_once():
                if not Delivery.objects.filter(batch=batch, status=Status.PENDING).exists():
                    return
                time.sleep(0.05)  # deferred (throttled) deliveries become due again shortly
    finally:
        close_old_connections()


def steady_rate(batch: Batch) -> float:
    """Messages per second between the 10th and the 90th percentile of acceptance times: the pace once
    running, without the start (first claim) and the end (last answers) that any run of any size has."""
    times = sorted(Delivery.objects.filter(batch=batch, sent_at__isnull=False).values_list("sent_at", flat=True))
    lo, hi = int(len(times) * 0.1), int(len(times) * 0.9)
    span = (times[hi] - times[lo]).total_seconds()
    return (hi - lo) / span if span > 0 else 0.0


def run_ours(batch: Batch, threads: int = 4) -> float:
    """One worker process as `campaignid worker` runs it: several threads claiming chunks in parallel."""
    from concurrent.futures import ThreadPoolExecutor

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(_dispatch_until_done, batch) for _ in range(threads)]:
            future.result()
    return time.perf_counter() - start


async def _naive_send(channel, message):
    async with client_session() as session:
        return await channel.send(session, message)


def run_naive(ids: list[int]) -> float:
    """One delivery at a time: build, send, wait for the answer, save the row, write the event."""
    start = time.perf_counter()
    for pk in ids:
        d = Delivery.objects.select_related("beneficiary", "program", "card", "program__organisation").get(pk=pk)
        channel = channel_config.build(d.channel, d.organisation_id, d.program_id)
        try:
            result = asyncio.run(_naive_send(channel, compose.outgoing(d)))
            d.status, d.provider_message_id, d.sent_at = Status.SENT, result.provider_message_id, timezone.now()
        except SendError as exc:
            d.status, d.error_code = Status.FAILED, exc.code
        d.attempts += 1
        d.save()
        DeliveryEvent.objects.create(delivery=d, kind="status", status=d.status, source="naive")
    return time.perf_counter() - start


def scenario_sms(sandbox: str, n: int, n_naive: int) -> dict:
    benchenv.control(sandbox, "/reset")
    benchenv.control(sandbox, "/orange/config", {"rate_limit": 0})
    benchenv.control(sandbox, "/orange/bundles", {"country": "SEN", "units": 10_000_000, "mode": "set"})
    program, batch = make_programme("smsfast", n, "sms", rate=5000)
    make_deliveries(program, batch, "sms", render=False)
    ours = run_ours(batch)
    sent = Delivery.objects.filter(batch=batch, status=Status.SENT).count()
    naive_program, _ = make_programme("smsnaive", n_naive, "sms", rate=5000)
    naive = run_naive(make_deliveries(naive_program, None, "sms", render=False))
    return {"scenario": "sms-0ms", "deliveries": n, "sent": sent, "ours_per_s": round(n / ours, 1),
            "naive_per_s": round(n_naive / naive, 1), "ratio": round((n / ours) / (n_naive / naive), 1),
            "budget": ">= 1000/s", "ok": n / ours >= 1000 and sent == n}


def scenario_whatsapp(sandbox: str, n: int, n_naive: int) -> dict:
    benchenv.control(sandbox, "/reset")
    benchenv.control(sandbox, "/graph/config", {"limits": {"mps": 80, "pair_burst": 0},
                                                 "messaging_limit": "TIER_UNLIMITED"})
    benchenv.control(sandbox, "/latency", {"graph": 0.2})
    program, batch = make_programme("waslow", n, "whatsapp", rate=80, messaging_limit="unlimited")
    make_deliveries(program, batch, "whatsapp", render=True)
    ours = run_ours(batch)
    throttled = DeliveryEvent.objects.filter(delivery__batch=batch, kind="deferred").count()
    sent = Delivery.objects.filter(batch=batch, status=Status.SENT).count()
    naive_program, _ = make_programme("wanaive", n_naive, "whatsapp", rate=80, messaging_limit="unlimited")
    naive = run_naive(make_deliveries(naive_program, None, "whatsapp", render=True))
    rate, steady = n / ours, steady_rate(batch)
    return {"scenario": "whatsapp-200ms-80mps", "deliveries": n, "sent": sent, "ours_per_s": round(rate, 1),
            "share_of_provider_rate": round(rate / 80, 3), "steady_per_s": round(steady, 1),
            "steady_share": round(steady / 80, 3), "throttling_errors": throttled,
            "naive_per_s": round(n_naive / naive, 2), "ratio": round(rate / (n_naive / naive), 1),
            "budget": ">= 95 % of 80/s (steady state), 0 throttling",
            "ok": steady >= 0.95 * 80 and throttled == 0 and sent == n}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test, not a measurement)")
    parser.add_argument("--json", help="write results here")
    args = parser.parse_args()
    print(json.dumps(benchenv.machine()), flush=True)  # the budget is per machine: say which
    sandbox = benchenv.start_sandbox()
    settings.SANDBOX_URL, settings.CAMPAIGNID_SANDBOX = sandbox, True
    logging.getLogger("campaignid").setLevel(logging.WARNING)
    results = []
    for run in (lambda: scenario_sms(sandbox, 400 if args.quick else 5000, 50 if args.quick else 300),
                lambda: scenario_whatsapp(sandbox, 160 if args.quick else 2400, 5 if args.quick else 20)):
        results.append(run())
        print(json.dumps(results[-1]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": benchenv.machine(), "runs": results}, indent=2))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
