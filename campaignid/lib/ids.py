"""Public identifiers: a readable prefix and a sortable, unguessable ULID-like body (``batch_01HX…``)."""

from __future__ import annotations

import os
import time

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32


def _b32(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        out.append(ALPHABET[rem])
    return "".join(reversed(out))


def ulid() -> str:
    """26-character ULID: 48-bit millisecond time + 80 random bits."""
    return _b32(int(time.time() * 1000), 10) + _b32(int.from_bytes(os.urandom(10), "big"), 16)


def new_id(prefix: str) -> str:
    return f"{prefix}_{ulid()}"
