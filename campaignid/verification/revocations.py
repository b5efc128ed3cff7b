"""The signed revocation list that offline verifiers cache: ``GET /.well-known/revocations``.

A COSE_Sign1 document (ES256, the card signing key, the kid of ``/.well-known/jwks.json``; protected header
``{1: -7, 3: "application/cid-revocations+cbor", 4: kid}``) whose payload is the CBOR map::

    {"typ": "cid-revocations", "v": 1, "iss": issuer, "ver": version, "iat": unix s, "exp": iat + 24 h,
     "bits": 28, "n": entries, "k": Rice parameter, "gcs": bstr,   # the full list (no ``since``)
     "since": version, "add": bstr,                                   # a delta (``?since=<version>``)
     "x": bstr}                                                       # exceptions, always complete

Each revoked card is the 28-bit hash ``h = SHA-256("CID-REVOKED:" + code)[0:4] >> 4``. ``gcs`` is the
sorted, de-duplicated hashes as Golomb–Rice coded gaps (each gap ``q = gap >> k`` in unary as q one-bits
and a zero, then the k low bits, most significant bit first; the first gap counts from 0): about 9.5 bits
per entry, so a million revocations take about 1.2 MB. ``add`` is the hashes revoked after ``since``, as
big-endian 4-byte words. ``x`` lists the 8-byte prefixes ``SHA-256("CID-REVOKED:" + code)[0:8]`` of valid
cards whose 28-bit hash collides with a listed one (the service knows every card it issued), so a list
never calls one of our valid cards revoked. A card is revoked offline when its ``h`` is listed and its
8-byte prefix is not in ``x``.

``ver`` is the id of the latest revocation event: it only grows. A verifier holding version V asks for
``?since=V`` and merges ``add`` (and replaces ``x``); an unknown or future ``since`` gets the full list.
Reissue gives the holder a new card with a new code (not listed); the old one stays listed. Were a listed
card ever valid again, its prefix would go into ``x``, which every answer carries in full, so a verifier
that only merges deltas stops calling it revoked. A verifier must not say "valid" once ``exp`` has passed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable

import cbor2
from django.core.cache import cache
from django.db.models import Max

from campaignid.cards import service as cards
from campaignid.cards import token as card_token
from campaignid.cards.keys import key_ring
from campaignid.cards.models import Card, CardEvent

CONTENT_TYPE = "application/cid-revocations+cbor"
BITS = 28
LIFETIME = 24 * 3600
SALT = b"CID-REVOKED:"
CACHE_SECONDS = 300


def digest(code: str) -> bytes:
    return hashlib.sha256(SALT + code.encode()).digest()


def short_hash(code: str) -> int:
    return int.from_bytes(digest(code)[:4], "big") >> (32 - BITS)


def rice_parameter(count: int) -> int:
    if count == 0:
        return 0
    return max(0, ((1 << BITS) // count).bit_length() - 1)


def rice_encode(values: list[int], k: int) -> bytes:
    """Sorted unique values as Rice-coded gaps (see the module docstring)."""
    out = bytearray()
    acc = nbits = previous = 0
    low = (1 << k) - 1
    for value in values:
        gap = value - previous
        previous = value
        q = gap >> k
        # q ones, one zero, then k bits
        acc = (((acc << (q + 1)) | (((1 << q) - 1) << 1)) << k) | (gap & low)
        nbits += q + 1 + k
        while nbits >= 8:
            nbits -= 8
            out.append((acc >> nbits) & 0xFF)
        acc &= (1 << nbits) - 1
    if nbits:
        out.append((acc << (8 - nbits)) & 0xFF)
    return bytes(out)


def rice_decode(data: bytes, count: int, k: int) -> list[int]:
    """The inverse of ``rice_encode`` (what a verifier does; used by tests and tools)."""

    def bit(i: int) -> int:
        return (data[i >> 3] >> (7 - (i & 7))) & 1

    position, value, out = 0, 0, []
    for _ in range(count):
        q = 0
        while bit(position):
            q += 1
            position += 1
        position += 1
        low = 0
        for _ in range(k):
            low = (low << 1) | bit(position)
            position += 1
        value += (q << k) | low
        out.append(value)
    return out


def current_version() -> int:
    return CardEvent.objects.filter(kind="revoked").aggregate(v=Max("id"))["v"] or 0


def _revoked_codes(since: int | None = None) -> Iterable[str]:
    qs = Card.objects.filter(status=Card.REVOKED)
    if since is not None:
        qs = qs.filter(events__kind="revoked", events__id__gt=since).distinct()
    return qs.values_list("code", flat=True).iterator(chunk_size=20000)


def _exceptions(listed: set[int]) -> bytes:
    """8-byte prefixes of valid cards whose short hash collides with a listed one."""
    found = set()
    if listed:
        for code in Card.objects.filter(status=Card.VALID).values_list("code", flat=True).iterator(chunk_size=20000):
            if short_hash(code) in listed:
                found.add(digest(code)[:8])
    return b"".join(sorted(found))


def build(since: int | None = None, now: float | None = None) -> dict:
    """The payload map of the list (full, or the delta after ``since``)."""
    now = int(time.time() if now is None else now)
    version = current_version()
    listed = sorted({short_hash(code) for code in _revoked_codes()})
    doc = {"typ": "cid-revocations", "v": 1, "iss": cards.issuer(), "ver": version, "iat": now,
           "exp": now + LIFETIME, "bits": BITS, "x": _exceptions(set(listed))}
    if since is not None and 0 <= since <= version:
        added = sorted({short_hash(code) for code in _revoked_codes(since)})
        doc.update({"since": since, "add": b"".join(v.to_bytes(4, "big") for v in added)})
    else:
        k = rice_parameter(len(listed))
        doc.update({"n": len(listed), "k": k, "gcs": rice_encode(listed, k)})
    return doc


def signed(payload: dict) -> bytes:
    ring = key_ring()
    return card_token.sign_document(cbor2.dumps(payload), ring.signing_key, ring.signing_kid, CONTENT_TYPE)


def document(since: int | None = None) -> bytes:
    """The signed list, built at most once per ``CACHE_SECONDS`` per version (a revocation shows at once)."""
    version = current_version()
    newest = Card.objects.aggregate(m=Max("id"))["m"] or 0
    key = f"revocations:{version}:{newest}:{since}"
    cached = cache.get(key)
    if cached is None:
        cached = signed(build(since))
        cache.set(key, cached, CACHE_SECONDS)
    return cached
