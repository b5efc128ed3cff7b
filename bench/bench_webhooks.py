"""Status-callback ingestion: signed Meta status webhooks verified, mapped and stored durably (the
status inbox), against a bare Django view that only checks the signature and parses the JSON, both served
by one gunicorn process in the same run; then the worker's bulk application of the stored callbacks to
the deliveries (lookup, state machine, events, updates) is timed on its own.

    python bench/bench_webhooks.py [--requests 3000] [--concurrency 16] [--json out.json]

Budget (DESIGN.md): ours >= 70 % of the bare view's requests per second.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import benchenv  # noqa: E402

data_dir = benchenv.setup_django()

import aiohttp  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaignid.distribution.models import Delivery  # noqa: E402
from campaignid.programs.models import Beneficiary, Organisation, Program  # noqa: E402

SECRET = b"sandbox-app-secret"


def seed(n: int) -> list[str]:
    org = Organisation.objects.create(name="bench", slug="bench")
    program = Program.objects.create(organisation=org, name="Bench", dhis2_program_uid="IpHINAT79UW",
                                     code_prefix="BEN-CH")
    Beneficiary.objects.bulk_create(Beneficiary(program=program, enrollment_id=f"B{i:06d}") for i in range(n))
    now = timezone.now()
    Delivery.objects.bulk_create(
        Delivery(organisation=org, program=program, beneficiary=b, channel="whatsapp", status="sent",
                 provider_message_id=f"wamid.BENCH{b.pk:08d}", sent_at=now, recipient=f"+2217700{b.pk:05d}",
                 recipient_masked="+22177***0000", provider_account="whatsapp:100000000000001")
        for b in Beneficiary.objects.filter(program=program))
    return list(Delivery.objects.values_list("provider_message_id", flat=True))


def payload(wamid: str, status: str) -> bytes:
    value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "221338000000",
                                                            "phone_number_id": "100000000000001"},
             "contacts": [{"wa_id": "221770000000", "user_id": "SN.1502576394655843"}],
             "statuses": [{"id": wamid, "status": status, "timestamp": str(int(time.time())),
                           "recipient_id": "221770000000", "recipient_user_id": "SN.1502576394655843",
                           "pricing": {"billable": True, "pricing_model": "PMP", "category": "utility",
                                       "type": "regular"}}]}
    body = {"object": "whatsapp_business_account",
            "entry": [{"id": "200000000000001", "changes": [{"field": "messages", "value": value}]}]}
    return json.dumps(body, separators=(",", ":")).encode()


async def load(url: str, bodies: list[bytes], concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as session:
        async def one(body: bytes) -> None:
            sig = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
            async with gate, session.post(url, data=body, headers={"Content-Type": "application/json",
                                                                   "X-Hub-Signature-256": sig}) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"{url} answered {resp.status}")

        start = time.perf_counter()
        await asyncio.gather(*(one(b) for b in bodies))
        return time.perf_counter() - start


def gunicorn(port: int) -> subprocess.Popen:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="webhook_settings", PYTHONPATH=f"{HERE}:{benchenv.ROOT}",
               CAMPAIGNID_SANDBOX="true")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "campaignid.wsgi:application", "--bind",
                             f"127.0.0.1:{port}", "--workers", "1", "--log-level", "warning"], env=env)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json")
    args = parser.parse_args()
    wamids = seed(args.requests)
    port = benchenv._free_port()
    server = gunicorn(port)
    try:
        base = f"http://127.0.0.1:{port}"
        warm = [payload(w, "sent") for w in wamids[:200]]
        asyncio.run(load(f"{base}/bare/whatsapp", warm, args.concurrency))
        bare = asyncio.run(load(f"{base}/bare/whatsapp", [payload(w, "delivered") for w in wamids],
                                args.concurrency))
        ours = asyncio.run(load(f"{base}/webhooks/whatsapp", [payload(w, "delivered") for w in wamids],
                                args.concurrency))
    finally:
        server.terminate()
        server.wait(10)
    from campaignid.distribution import inbox

    start = time.perf_counter()
    while inbox.apply():
        pass
    apply_s = time.perf_counter() - start
    applied = Delivery.objects.filter(status="delivered").count()
    result = {"requests": args.requests, "bare_per_s": round(args.requests / bare, 1),
              "ours_per_s": round(args.requests / ours, 1), "ratio": round(bare / ours, 3),
              "applied": applied, "worker_applies_per_s": round(applied / apply_s, 1),
              "budget": ">= 0.70 of bare"}
    result["ok"] = result["ratio"] >= 0.70 and applied == args.requests
    print(json.dumps(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
