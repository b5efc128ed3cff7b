"""The card signing key ring: one ES256 (ECDSA P-256) signing key and every public key still accepted.

Configuration (environment only; each may also come from ``NAME_FILE``):

``CARD_SIGNING_KEY``
    PEM private key (EC P-256) that signs new cards. Without it, a key pair is generated once into
    ``CAMPAIGNID_DATA_DIR/card-signing-key.pem`` and reused (embedded default). With several web
    processes on several machines, set it explicitly so that they all sign with the same key.
``CARD_SIGNING_KID``
    Optional key identifier (base64url text). Default: base64url of the first 8 bytes of the SHA-256
    of the public key (SubjectPublicKeyInfo DER), as in the EU DCC.
``CARD_VERIFY_KEYS``
    Optional PEM public keys of previous signing keys, one block after the other, so that cards they
    signed keep verifying after a rotation. A block may be preceded by a line ``kid: <text>`` when
    that key used a custom identifier.

Literal ``\\n`` sequences in the variables are read as new lines (one-line environment files).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from campaignid.lib import env
from campaignid.lib.env import ConfigError

DEFAULT_KEY_FILE = "card-signing-key.pem"
PUBLIC_BLOCK_RE = re.compile(
    r"(?:^kid:\s*(?P<kid>\S+)\s*\n)?(?P<pem>-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----)",
    re.S | re.M | re.I,
)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def default_kid(public_key: ec.EllipticCurvePublicKey) -> bytes:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()[:8]


def parse_kid(text: str) -> bytes:
    """A configured kid (base64url text, 1–32 bytes once decoded) as the bytes put in the COSE header."""
    text = text.strip()
    try:
        raw = b64url_decode(text)
    except (binascii.Error, ValueError):
        raw = b""
    if not raw or len(raw) > 32 or b64url(raw) != text:
        raise ConfigError(f"card key id {text!r} must be base64url text of 1 to 32 bytes (e.g. 'a1B2c3D4e5E').")
    return raw


@dataclass(frozen=True)
class PublicKey:
    kid: bytes
    key: ec.EllipticCurvePublicKey

    @property
    def kid_text(self) -> str:
        return b64url(self.kid)

    def jwk(self) -> dict:
        numbers = self.key.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
            "kid": self.kid_text,
            "use": "sig",
            "alg": "ES256",
        }


@dataclass(frozen=True)
class KeyRing:
    signing_key: ec.EllipticCurvePrivateKey
    signing_kid: bytes
    public_keys: tuple[PublicKey, ...]  # the signer's public key first

    @property
    def signing_kid_text(self) -> str:
        return b64url(self.signing_kid)

    def candidates(self, kid: bytes) -> tuple[list[ec.EllipticCurvePublicKey], bool]:
        """Keys to try for a token with this kid, and whether the kid was known.

        kids are short and not secret, so several keys may share one (try them all); an unknown kid
        still gets every key tried, so a key whose custom kid was lost in a rotation keeps verifying.
        """
        matching = [p.key for p in self.public_keys if p.kid == kid]
        return (matching, True) if matching else ([p.key for p in self.public_keys], False)

    def jwks(self) -> dict:
        return {"keys": [p.jwk() for p in self.public_keys]}


def _pem_text(raw: str) -> str:
    return raw.replace("\\n", "\n").strip()


def _check_curve(key, what: str) -> None:
    if not isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) or not isinstance(
        key.curve, ec.SECP256R1
    ):
        raise ConfigError(f"{what} must be an EC P-256 (ES256) key.")


def load_private_key(pem: str, what: str = "CARD_SIGNING_KEY") -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(_pem_text(pem).encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{what} is not a readable unencrypted PEM private key: {exc}") from exc
    _check_curve(key, what)
    return key


def load_public_keys(bundle: str, what: str = "CARD_VERIFY_KEYS") -> list[PublicKey]:
    text = _pem_text(bundle)
    found = []
    for match in PUBLIC_BLOCK_RE.finditer(text):
        try:
            key = serialization.load_pem_public_key(match.group("pem").encode())
        except ValueError as exc:
            raise ConfigError(f"{what} holds a PEM block that is not a public key: {exc}") from exc
        _check_curve(key, what)
        kid = parse_kid(match.group("kid")) if match.group("kid") else default_kid(key)
        found.append(PublicKey(kid, key))
    if text and not found:
        raise ConfigError(f"{what} holds no '-----BEGIN PUBLIC KEY-----' block.")
    return found


def generated_key_path() -> Path:
    return Path(settings.DATA_DIR) / DEFAULT_KEY_FILE


def _generate_once(path: Path) -> str:
    """Create the embedded default key file exactly once, even with several processes starting together."""
    if path.exists():
        return path.read_text()
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    try:
        os.link(tmp, path)  # atomic; fails if another process got there first
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text()


def configured_signing_pem() -> str | None:
    return env.get("CARD_SIGNING_KEY") or None


@lru_cache(maxsize=1)
def key_ring() -> KeyRing:
    """The key ring from the environment (read once per process; ``reset()`` re-reads it)."""
    pem = configured_signing_pem() or _generate_once(generated_key_path())
    private = load_private_key(pem)
    kid_text = env.get("CARD_SIGNING_KID")
    kid = parse_kid(kid_text) if kid_text else default_kid(private.public_key())
    publics = [PublicKey(kid, private.public_key())]
    for extra in load_public_keys(env.get("CARD_VERIFY_KEYS") or ""):
        if extra.key.public_numbers() != private.public_key().public_numbers():
            publics.append(extra)
    return KeyRing(private, kid, tuple(publics))


def reset() -> None:
    key_ring.cache_clear()
