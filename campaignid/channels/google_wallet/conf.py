"""Google Wallet channel settings: names, environment variables, sandbox defaults, the frozen config.

| setting              | env variable                              | default                                  |
|----------------------|-------------------------------------------|------------------------------------------|
| issuer_id            | GOOGLE_WALLET_ISSUER_ID                   | — (required)                             |
| service_account_json | GOOGLE_WALLET_SERVICE_ACCOUNT_JSON(_FILE) | — (required; secret)                     |
| class_suffix         | GOOGLE_WALLET_CLASS_SUFFIX                | campaignid                               |
| token_url            | GOOGLE_OAUTH_TOKEN_URL                    | https://oauth2.googleapis.com/token      |
| api_url              | GOOGLE_WALLET_API_URL                     | (1)                                      |
| save_url             | GOOGLE_WALLET_SAVE_URL                    | https://pay.google.com/gp/v/save/        |
| origins              | GOOGLE_WALLET_ORIGINS                     | the public URL (CAMPAIGNID_PUBLIC_URL)   |

(1) https://walletobjects.googleapis.com/walletobjects/v1

- ``issuer_id``: the numeric issuer ID of the Google Pay & Wallet Console. Class and object IDs are
  ``<issuer_id>.<identifier>``; the service account must be a user of this issuer in the console.
- ``service_account_json``: the service account's JSON key (``client_email``, ``private_key_id``,
  ``private_key``). It signs the OAuth assertion and the "Add to Google Wallet" links. Encrypted at rest
  in the organisation row, or read from ``GOOGLE_WALLET_SERVICE_ACCOUNT_JSON_FILE``.
- ``class_suffix``: namespaces our IDs inside the issuer: one class per programme
  ``<issuer>.<suffix>.<DHIS2 programme UID>`` and one object per card ``<issuer>.<suffix>.<card code>``.
- ``origins``: domains allowed to show the web "Add to Google Wallet" button (comma-separated); plain
  links work without it.

Sandbox (``CAMPAIGNID_SANDBOX`` on): the URLs point at the bundled emulator and the issuer is its default
one. No key is configured: the channel fetches the emulator's default service-account key from
``<sandbox>/control/google/service-account`` on first use and caches it per process. That works wherever
the sandbox runs (in ``serve``, as a separate process or machine, or in tests with a temporary data
directory), whereas the key file the sandbox writes in its data directory is only readable when both
share ``CAMPAIGNID_DATA_DIR`` and the sandbox was started with its default data directory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENV = {
    "issuer_id": "GOOGLE_WALLET_ISSUER_ID",
    "service_account_json": "GOOGLE_WALLET_SERVICE_ACCOUNT_JSON",
    "class_suffix": "GOOGLE_WALLET_CLASS_SUFFIX",
    "token_url": "GOOGLE_OAUTH_TOKEN_URL",
    "api_url": "GOOGLE_WALLET_API_URL",
    "save_url": "GOOGLE_WALLET_SAVE_URL",
    "origins": "GOOGLE_WALLET_ORIGINS",
}
SECRET_FIELDS = ("service_account_json",)
SETTINGS_FIELDS = tuple(name for name in ENV if name not in SECRET_FIELDS)
ENDPOINT_FIELDS = ("token_url", "api_url", "save_url")  # deployment-controlled (programs/authority.py)
REQUIRED = ("issuer_id", "service_account_json")

DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"
DEFAULT_API_URL = "https://walletobjects.googleapis.com/walletobjects/v1"
DEFAULT_SAVE_URL = "https://pay.google.com/gp/v/save/"
DEFAULT_CLASS_SUFFIX = "campaignid"
SANDBOX_ISSUER_ID = "3388000000022000001"
RATE_PER_SECOND = 20.0  # "Calls to the Google Wallet API are rate limited to 20 requests per second"

_ISSUER = re.compile(r"^\d{1,30}$")
_SUFFIX = re.compile(r"^[A-Za-z0-9_-]{1,40}$")  # no dots: the suffix is one segment of our IDs


def sandbox_defaults(sandbox_url: str) -> dict[str, Any]:
    """Settings that talk to the bundled Google emulator; its key is fetched lazily (see above)."""
    base = sandbox_url.rstrip("/")
    return {
        "issuer_id": SANDBOX_ISSUER_ID,
        "token_url": f"{base}/google/oauth2/token",
        "api_url": f"{base}/google/walletobjects/v1",
        "save_url": f"{base}/google/gp/v/save/",
        "service_account_url": f"{base}/control/google/service-account",
    }


@dataclass(frozen=True)
class WalletConfig:
    issuer_id: str
    service_account_json: str = ""  # the key file as text; empty when fetched from the sandbox
    service_account_url: str = ""  # sandbox only: where to fetch the default key
    class_suffix: str = DEFAULT_CLASS_SUFFIX
    token_url: str = DEFAULT_TOKEN_URL
    api_url: str = DEFAULT_API_URL
    save_url: str = DEFAULT_SAVE_URL
    origins: tuple[str, ...] = ()

    def __repr__(self) -> str:  # never print the key
        return f"WalletConfig(issuer_id={self.issuer_id!r}, api_url={self.api_url!r})"


def _text(mapping: Mapping[str, Any], name: str, default: str = "") -> str:
    value = mapping.get(name)
    return default if value in (None, "") else str(value).strip()


def _url(mapping: Mapping[str, Any], name: str, default: str) -> str:
    raw = _text(mapping, name, default)
    if not raw.startswith(("https://", "http://")):
        raise ValueError(f"{name} must be an http(s) URL, not {raw!r}")
    return raw


def _key_json(raw: Any) -> str:
    """The key file as canonical text; ValueError names what is wrong (never prints the key)."""
    if isinstance(raw, Mapping):
        data = dict(raw)
    else:
        try:
            data = json.loads(str(raw))
        except ValueError as exc:
            raise ValueError("service_account_json is not valid JSON (paste the whole key file)") from exc
    if not isinstance(data, dict):
        raise ValueError("service_account_json must be the JSON key file of a service account")
    missing = [k for k in ("client_email", "private_key_id", "private_key") if not data.get(k)]
    if missing:
        raise ValueError(f"service_account_json lacks {', '.join(missing)}")
    return json.dumps(data, sort_keys=True)


def _origins(raw: Any) -> tuple[str, ...]:
    if raw in (None, ""):
        return _default_origins()
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return tuple(str(item).strip() for item in items if str(item).strip())


def _default_origins() -> tuple[str, ...]:
    try:
        from django.conf import settings

        url = getattr(settings, "CAMPAIGNID_PUBLIC_URL", "")
    except Exception:  # Django not configured (pure use of the module)
        url = ""
    return (url,) if url else ()


def from_mapping(mapping: Mapping[str, Any]) -> WalletConfig:
    """The frozen config; KeyError names a missing required setting, ValueError a malformed one."""
    issuer = _text(mapping, "issuer_id")
    if not issuer:
        raise KeyError(f"issuer_id (environment {ENV['issuer_id']})")
    if not _ISSUER.match(issuer):
        raise ValueError(f"issuer_id must be the numeric issuer ID of the Pay & Wallet Console, not {issuer!r}")
    key = mapping.get("service_account_json")
    key_url = _text(mapping, "service_account_url")
    if key in (None, "") and not key_url:
        raise KeyError(f"service_account_json (environment {ENV['service_account_json']} or "
                       f"{ENV['service_account_json']}_FILE)")
    suffix = _text(mapping, "class_suffix", DEFAULT_CLASS_SUFFIX)
    if not _SUFFIX.match(suffix):
        raise ValueError(f"class_suffix may hold only letters, digits, '_' and '-' (at most 40), not {suffix!r}")
    save_url = _url(mapping, "save_url", DEFAULT_SAVE_URL)
    return WalletConfig(
        issuer_id=issuer,
        service_account_json=_key_json(key) if key not in (None, "") else "",
        service_account_url=key_url,
        class_suffix=suffix,
        token_url=_url(mapping, "token_url", DEFAULT_TOKEN_URL),
        api_url=_url(mapping, "api_url", DEFAULT_API_URL).rstrip("/"),
        save_url=save_url if save_url.endswith("/") else save_url + "/",
        origins=_origins(mapping.get("origins")),
    )
