"""Secrets at rest: Fernet with rotatable keys (``CAMPAIGNID_ENCRYPTION_KEYS``, newest first)."""

from __future__ import annotations

import hashlib
import json
import secrets
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.CAMPAIGNID_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt a stored secret: wrong or rotated-out CAMPAIGNID_ENCRYPTION_KEYS") from exc


def rotate(token: str) -> str:
    """Re-encrypt with the newest key (``campaignid rotatekeys``)."""
    return fernet().rotate(token.encode()).decode()


def hash_token(token: str) -> str:
    """API tokens are stored as SHA-256: they are long random strings, so no salt or KDF is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def random_token(prefix: str, nbytes: int = 32) -> str:
    return f"{prefix}{secrets.token_urlsafe(nbytes)}"


class EncryptedJSONField(models.TextField):
    """A dict of secrets, stored Fernet-encrypted; reads give the dict back."""

    description = "Encrypted JSON"

    def from_db_value(self, value: str | None, expression, connection) -> dict[str, Any]:
        if not value:
            return {}
        return json.loads(decrypt(value))

    def to_python(self, value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        if not value:
            return {}
        return json.loads(decrypt(value))

    def get_prep_value(self, value: Any) -> str:
        if not value:
            return ""
        return encrypt(json.dumps(value, sort_keys=True))
