"""Cards benchmark: card PNG rendering, token signing and token verification, each against a naive
baseline measured in the same run, on one CPU core.

    python bench/bench_cards.py [--seconds 1.0] [--json results.json]

Ours:      render = cached programme template (indexed palette) + zxing-cpp QR + PNG (zlib level 3);
           token  = COSE_Sign1 ES256 (cbor2 + cryptography) + table-driven Base45, verified with the key ring.
Baselines: render = segno QR saved as PNG, opened with Pillow, pasted on an RGB card drawn with the same
           fonts, saved as PNG with Pillow's defaults (what one writes first);
           token  = the textbook HCERT pipeline (cbor2 + cryptography, always zlib with default settings,
           the ``base45`` package), and the same claims as a compact JWS (PyJWT, ES256, JSON) as in SMART
           Health Cards, for its speed and its QR size.
The functions compared are measured in interleaved batches, so that each sees the same machine load.
Budgets (DESIGN.md, per card, on one core): render <= 10 ms, sign <= 0.2 ms, verify <= 0.5 ms.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
import zlib
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import base45  # noqa: E402
import cbor2  # noqa: E402
import jwt  # noqa: E402
import segno  # noqa: E402
import zxingcpp  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from campaignid.cards import imaging, keys, render, token  # noqa: E402

NAME = "Fàtoumata Ndèye Ñdiaye Séverine Ouédraogo"
CLAIMS = token.CardClaims("https://cartes.sante.example.sn", 1_795_000_000, 1_952_000_000, "DKR-VAC-9XQ7LM2A",
                          "IpHINAT79UW", NAME)
LOOK = render.Look("PEV Dakar — Programme élargi de vaccination", "#0B5F56", "#F2C14E", "fr")
BUDGET_MS = {"render": 10.0, "sign": 0.2, "verify": 0.5}
ECDSA = ec.ECDSA(hashes.SHA256())


# --- measurement -------------------------------------------------------------------------------------
def _batch_size(fn) -> int:
    fn()
    start = time.perf_counter()
    fn()
    return max(1, int(0.02 / max(time.perf_counter() - start, 1e-7)))


def _summary(samples: list[float], batch: int) -> dict:
    samples.sort()
    return {"median_ms": statistics.median(samples), "p95_ms": samples[max(0, int(len(samples) * 0.95) - 1)],
            "calls": batch * len(samples)}


def measure(*fns, seconds: float) -> list[dict]:
    """Per-call time (ms) of each function: median and p95 over ~20 ms batches, the functions' batches
    interleaved; about ``seconds`` in all."""
    batches = [_batch_size(fn) for fn in fns]
    samples: list[list[float]] = [[] for _ in fns]
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples[0]) < 5:
        for fn, batch, out in zip(fns, batches, samples, strict=True):
            t0 = time.perf_counter()
            for _ in range(batch):
                fn()
            out.append((time.perf_counter() - t0) / batch * 1000)
    return [_summary(out, batch) for out, batch in zip(samples, batches, strict=True)]


# --- ours ------------------------------------------------------------------------------------------------
def ring(private_key) -> keys.KeyRing:
    public = keys.PublicKey(keys.default_kid(private_key.public_key()), private_key.public_key())
    return keys.KeyRing(private_key, public.kid, (public,))


def our_face(signed: str) -> render.CardFace:
    return render.CardFace(LOOK, NAME, CLAIMS.card_code, date(2026, 11, 27), date(2031, 11, 26), signed,
                           "cartes.sante.example.sn/c/DKR-VAC-9XQ7LM2A")


# --- baselines -------------------------------------------------------------------------------------------
def naive_render(signed: str) -> bytes:
    card = Image.new("RGB", (render.WIDTH, render.HEIGHT), "white")
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, render.WIDTH, render.BAND), fill=LOOK.primary_colour)
    draw.rectangle((0, render.BAND, render.WIDTH, render.BAND + render.STRIPE), fill=LOOK.secondary_colour)
    draw.text((40, 50), LOOK.programme_name, font=imaging.font(imaging.BOLD, 32), fill="white")
    small, big = imaging.font(imaging.REGULAR, 22), imaging.font(imaging.BOLD, 36)
    for label, y in (("Titulaire", 190), ("N° de carte", 330), ("Délivrée le", 440)):
        draw.text((40, y), label, font=small, fill="#5f6368")
    draw.text((40, 222), NAME, font=big, fill="black")
    draw.text((40, 362), CLAIMS.card_code, font=big, fill="black")
    draw.text((40, 472), "27/11/2026", font=big, fill="black")
    qr_png = io.BytesIO()
    segno.make(signed, error="m", micro=False).save(qr_png, kind="png", scale=5, border=4)
    qr = Image.open(io.BytesIO(qr_png.getvalue())).convert("RGB")
    card.paste(qr, (render.WIDTH - 40 - qr.width, 200))
    out = io.BytesIO()
    card.save(out, "PNG")
    return out.getvalue()


def naive_sign(private_key, kid: bytes) -> str:
    protected = cbor2.dumps({1: -7, 4: kid})
    payload = CLAIMS.to_cbor()
    r, s = decode_dss_signature(private_key.sign(cbor2.dumps(["Signature1", protected, b"", payload]), ECDSA))
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, r.to_bytes(32, "big") + s.to_bytes(32, "big")]))
    compressed = zlib.compress(cose)
    return "CID1:" + base45.b45encode(compressed if len(compressed) < len(cose) else cose).decode()


def naive_verify(text: str, public_key) -> dict:
    data = base45.b45decode(text[5:])
    if data[:1] == b"\x78":
        data = zlib.decompress(data)
    protected, _unprotected, payload, signature = cbor2.loads(data).value
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public_key.verify(der, cbor2.dumps(["Signature1", protected, b"", payload]), ECDSA)
    return cbor2.loads(payload)


def jws_claims() -> dict:
    return {"iss": CLAIMS.issuer, "iat": CLAIMS.issued_at, "exp": CLAIMS.expires_at,
            "card": {"v": 1, "c": CLAIMS.card_code, "p": CLAIMS.programme_uid, "n": CLAIMS.name}}


# --- run -------------------------------------------------------------------------------------------------
def check_outputs(signed: str, our_png: bytes, naive_png: bytes) -> dict:
    """Both renderers produce cards that scan back to the token; returns their PNG sizes."""
    sizes = {}
    for label, png in (("ours", our_png), ("naive", naive_png)):
        found = zxingcpp.read_barcode(Image.open(io.BytesIO(png)))
        assert found is not None and found.text == signed, f"{label} card does not scan"
        sizes[label] = len(png)
    return sizes


def run(seconds: float) -> dict:
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_key, key_ring = private_key.public_key(), ring(private_key)
    kid = key_ring.signing_kid
    signed = token.sign(CLAIMS, private_key, kid)
    jws = jwt.encode(jws_claims(), private_key, algorithm="ES256", headers={"kid": key_ring.signing_kid_text})
    assert naive_verify(signed, public_key) and token.verify(naive_sign(private_key, kid), key_ring)
    face = our_face(signed)
    png_sizes = check_outputs(signed, render.render_png(face), naive_render(signed))

    def cold_render():
        render.template.cache_clear()
        render.render_png(face)

    render_ours, render_naive = measure(lambda: render.render_png(face), lambda: naive_render(signed),
                                        seconds=2 * seconds)
    (render_cold,) = measure(cold_render, seconds=seconds)
    sign_ours, sign_naive, sign_jws = measure(
        lambda: token.sign(CLAIMS, private_key, kid), lambda: naive_sign(private_key, kid),
        lambda: jwt.encode(jws_claims(), private_key, algorithm="ES256"), seconds=3 * seconds)
    verify_ours, verify_naive, verify_jws = measure(
        lambda: token.verify(signed, key_ring), lambda: naive_verify(signed, public_key),
        lambda: jwt.decode(jws, public_key, algorithms=["ES256"]), seconds=3 * seconds)
    results = [
        ("render", "segno + Pillow, RGB PNG", render_ours, render_naive),
        ("render, first card of a programme", "", render_cold, None),
        ("sign", "textbook COSE + base45 pkg", sign_ours, sign_naive),
        ("sign", "compact JWS (PyJWT)", sign_ours, sign_jws),
        ("verify", "textbook COSE + base45 pkg", verify_ours, verify_naive),
        ("verify", "compact JWS (PyJWT)", verify_ours, verify_jws),
    ]
    sizes = {"token_chars": len(signed), "token_qr_version_m": render.qr_modules(signed)[1], "jws_chars": len(jws),
             "jws_qr_version_m": segno.make(jws, error="m").version, "png_bytes": png_sizes}
    return {"results": results, "sizes": sizes}


def _ms(result: dict | None) -> str:
    return f"{result['median_ms']:.3f} ms ({result['p95_ms']:.3f})" if result else "—"


def report(data: dict) -> str:
    rows = ["| work | ours: median (p95) | baseline | baseline: median (p95) | baseline / ours | budget (median) |",
            "|---|---|---|---|---|---|"]
    for work, baseline_name, ours, base in data["results"]:
        budget = BUDGET_MS.get(work)
        ratio = f"{base['median_ms'] / ours['median_ms']:.2f}" if base else "—"
        verdict = f"≤ {budget} ms: {'yes' if ours['median_ms'] <= budget else 'NO'}" if budget else "—"
        rows.append(f"| {work} | {_ms(ours)} | {baseline_name or '—'} | {_ms(base)} | {ratio} | {verdict} |")
    s = data["sizes"]
    rows += ["", f"token: {s['token_chars']} characters → QR version {s['token_qr_version_m']} (ECC M, alphanumeric); "
             f"same claims as JWS: {s['jws_chars']} characters → QR version {s['jws_qr_version_m']} (ECC M, byte)",
             f"card PNG: ours {s['png_bytes']['ours']:,} bytes, baseline {s['png_bytes']['naive']:,} bytes; "
             "both scan back to the token"]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="measuring time unit per comparison")
    parser.add_argument("--json", type=Path, help="also write the raw numbers to this file")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    data = run(args.seconds)
    print(f"Cards benchmark — Python {sys.version.split()[0]}, one core of {os.cpu_count()}, "
          f"load average {load:.2f} at start\n")
    print(report(data))
    if args.json:
        args.json.write_text(json.dumps(data, indent=2))
    over = [w for w, _n, ours, _b in data["results"] if w in BUDGET_MS and ours["median_ms"] > BUDGET_MS[w]]
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
