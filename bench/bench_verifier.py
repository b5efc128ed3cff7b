"""Offline verifier benchmark, in the browser (Debian's chromium driven by Playwright, as in the tests):
load a signed revocation list of one million entries, then check cards against it.

    python bench/bench_verifier.py [--entries 1000000] [--checks 200] [--json results.json]

Ours:     verifier-core.js as shipped: fetch the COSE document, verify its ES256 signature with WebCrypto,
          Rice-decode the million 28-bit hashes into a Uint32Array; a check = unwrap the QR URL, verify the
          card's COSE_Sign1 with WebCrypto, SHA-256 + binary search in the list, rules.
Baseline: in the same page and run, fetching the same bytes and hashing them with SHA-256 (the least any
          integrity-checked download costs), and one bare WebCrypto ECDSA verify (the least a check costs).
Budgets (issue 20, on this machine): list load <= 1 s, one check <= 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
os.environ.setdefault("CAMPAIGNID_DATA_DIR", tempfile.mkdtemp(prefix="campaignid-bench-"))
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

import cbor2  # noqa: E402
import django  # noqa: E402

django.setup()

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from campaignid.cards import token  # noqa: E402
from campaignid.cards.keys import PublicKey, default_kid  # noqa: E402
from campaignid.verification import revocations, rules  # noqa: E402

STATIC = ROOT / "campaignid" / "verification" / "static" / "verification"
ORIGIN = "http://127.0.0.1:9"  # never reached: every request is answered by the page's route handler
BUDGET = {"load_ms": 1000.0, "check_ms": 50.0}
NOW = 1_795_000_000

PAGE = """<!doctype html><meta charset=utf-8><script src="/core.js"></script>"""

MEASURE = """async ({checks, tokens}) => {
  const V = self.CIDVerifier;
  const get = async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer());
  const keys = await V.importKeys(JSON.parse(new TextDecoder().decode(await get("/jwks"))));
  await get("/list");  // warm the route once, like a cached file
  const out = {load: [], base_load: [], check: [], base_check: [], verdicts: {}};
  for (let i = 0; i < 5; i++) {
    let t = performance.now();
    const bytes = await get("/list");
    await crypto.subtle.digest("SHA-256", bytes);
    out.base_load.push(performance.now() - t);
    t = performance.now();
    const list = await V.loadRevocations(await get("/list"), keys);
    out.load.push(performance.now() - t);
    out.entries = list.values.length;
  }
  const state = {keys, revocations: await V.loadRevocations(await get("/list"), keys),
                 rules: await V.loadRules(await get("/rules"), keys)};
  const pair = await crypto.subtle.generateKey({name: "ECDSA", namedCurve: "P-256"}, false, ["sign", "verify"]);
  const data = new Uint8Array(200), algo = {name: "ECDSA", hash: "SHA-256"};
  const sig = await crypto.subtle.sign(algo, pair.privateKey, data);
  for (let i = 0; i < checks; i++) {
    const text = tokens[i % tokens.length];
    let t = performance.now();
    const verdict = await V.check(text, state, %NOW%);
    out.check.push(performance.now() - t);
    out.verdicts[verdict.status] = (out.verdicts[verdict.status] || 0) + 1;
    t = performance.now();
    if (!await crypto.subtle.verify(algo, pair.publicKey, sig, data)) throw new Error("baseline verify");
    out.base_check.push(performance.now() - t);
  }
  return out;
}""".replace("%NOW%", str(NOW))


def build(entries: int) -> dict:
    key = ec.generate_private_key(ec.SECP256R1())
    kid = default_kid(key.public_key())
    revoked_code, valid_code = "DKR-VAC-REVOKED1", "DKR-VAC-VALID001"
    rng = random.Random(20)
    values = {revocations.short_hash(revoked_code)}
    while len(values) < entries:
        values.add(rng.randrange(1 << revocations.BITS))
    values.discard(revocations.short_hash(valid_code))
    values = sorted(values)
    k = revocations.rice_parameter(len(values))
    listing = {"typ": "cid-revocations", "v": 1, "iss": "https://cartes.sante.sn", "ver": entries, "iat": NOW - 60,
               "exp": NOW + revocations.LIFETIME, "bits": revocations.BITS, "n": len(values), "k": k,
               "gcs": revocations.rice_encode(values, k), "x": b""}
    ruleset = {"typ": "cid-rules", "v": 1, "iss": "https://cartes.sante.sn", "iat": NOW - 60, "exp": NOW + 86400,
               "programmes": {"IpHINAT79UW": {"name": "PEV", "rules": [{"id": "not_expired"}, {"id": "not_revoked"}]}}}
    tokens = []
    for code in (valid_code, revoked_code):
        claims = token.CardClaims("https://cartes.sante.sn", NOW - 86400, NOW + 86400 * 365, code, "IpHINAT79UW",
                                  "Fàtoumata Ndèye Diallo", 1987)
        tokens.append(token.url_form(token.sign(claims, key, kid), "https://cartes.sante.sn/v"))
    return {
        "/": (PAGE.encode(), "text/html"),
        "/core.js": ((STATIC / "verifier-core.js").read_bytes(), "text/javascript"),
        "/jwks": (json.dumps({"keys": [PublicKey(kid, key.public_key()).jwk()]}).encode(), "application/json"),
        "/list": (token.sign_document(cbor2.dumps(listing), key, kid, revocations.CONTENT_TYPE), "application/cose"),
        "/rules": (token.sign_document(cbor2.dumps(ruleset), key, kid, rules.CONTENT_TYPE), "application/cose"),
        "tokens": tokens,
    }


def run(entries: int, checks: int) -> dict:
    from playwright.sync_api import sync_playwright

    files = build(entries)
    tokens = files.pop("tokens")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()

        def answer(route):
            path = route.request.url[len(ORIGIN):].split("?")[0] or "/"
            body, kind = files[path]
            route.fulfill(status=200, body=body, content_type=kind)

        page.route(f"{ORIGIN}/**", answer)
        page.goto(f"{ORIGIN}/")
        raw = page.evaluate(MEASURE, {"checks": checks, "tokens": tokens})
        version = browser.version
        browser.close()
    med = statistics.median
    return {
        "machine": f"{platform.node()} {platform.processor() or platform.machine()} ({os.cpu_count()} cpus)",
        "chromium": version, "entries": raw["entries"], "list_bytes": len(files["/list"][0]),
        "load_ms": med(raw["load"]), "base_load_ms": med(raw["base_load"]),
        "check_ms": med(raw["check"]), "check_p95_ms": sorted(raw["check"])[int(0.95 * len(raw["check"]))],
        "check_max_ms": max(raw["check"]), "base_check_ms": med(raw["base_check"]), "verdicts": raw["verdicts"],
    }


def report(d: dict) -> str:
    ok_load, ok_check = d["load_ms"] <= BUDGET["load_ms"], d["check_p95_ms"] <= BUDGET["check_ms"]
    return "\n".join([
        f"machine: {d['machine']}, chromium {d['chromium']}",
        f"revocation list: {d['entries']:,} entries, {d['list_bytes'] / 1e6:.2f} MB signed",
        f"load (fetch + ES256 + decode): {d['load_ms']:.0f} ms median; baseline fetch + SHA-256 "
        f"{d['base_load_ms']:.0f} ms; ratio {d['load_ms'] / max(d['base_load_ms'], 0.01):.1f}x; "
        f"budget {BUDGET['load_ms']:.0f} ms: {'OK' if ok_load else 'OVER'}",
        f"check: {d['check_ms']:.2f} ms median, p95 {d['check_p95_ms']:.2f}, max {d['check_max_ms']:.2f}; "
        f"baseline bare ECDSA verify {d['base_check_ms']:.2f} ms; "
        f"budget {BUDGET['check_ms']:.0f} ms: {'OK' if ok_check else 'OVER'}",
        f"verdicts: {d['verdicts']}",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    data = run(args.entries, args.checks)
    print(report(data))
    if args.json:
        args.json.write_text(json.dumps(data, indent=2))
    within = data["load_ms"] <= BUDGET["load_ms"] and data["check_p95_ms"] <= BUDGET["check_ms"]
    return 0 if within and data["verdicts"] == {"valid": args.checks // 2 + args.checks % 2,
                                                "revoked": args.checks // 2} else 1


if __name__ == "__main__":
    sys.exit(main())
