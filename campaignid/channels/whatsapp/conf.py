"""WhatsApp channel settings: names, environment variables, sandbox defaults, and the frozen config.

| setting                     | env variable                          | default                      | kind   |
|-----------------------------|---------------------------------------|------------------------------|--------|
| access_token                | WHATSAPP_API_TOKEN                    | — (required)                 | secret |
| phone_number_id             | WHATSAPP_PHONE_NUMBER_ID              | — (required)                 | plain  |
| waba_id                     | WHATSAPP_WABA_ID                      | ""                           | plain  |
| app_secret                  | WHATSAPP_APP_SECRET                   | "" (needed for webhooks)     | secret |
| verify_token                | WHATSAPP_VERIFY_TOKEN                 | "" (needed for webhooks)     | secret |
| graph_version               | WHATSAPP_GRAPH_VERSION                | v25.0                        | plain  |
| graph_url                   | WHATSAPP_GRAPH_URL                    | https://graph.facebook.com   | plain  |
| template_name               | WHATSAPP_TEMPLATE_NAME                | campaignid_card              | plain  |
| template_language           | WHATSAPP_TEMPLATE_LANGUAGE            | fr:fr,en:en                  | plain  |
| template_named_parameters   | WHATSAPP_TEMPLATE_NAMED_PARAMETERS    | true                         | plain  |
| template_parameters         | WHATSAPP_TEMPLATE_PARAMETERS          | (see below)                  | plain  |
| rate_per_second             | WHATSAPP_RATE_PER_SECOND              | 80                           | plain  |
| messaging_limit             | WHATSAPP_MESSAGING_LIMIT              | "" (Meta's, read at run time) | plain  |

``template_language`` maps our language to the template's language code (a mapping in the organisation
row, ``fr:fr,en:en_US`` or JSON in the environment). ``template_parameters`` lists, in order, the
message variables sent as body parameters, by default ``first_name,programme_name,card_code,
verification_url``: named templates use them as ``parameter_name``, positional ones fill ``{{1}}..{{n}}``
in that order; ``message`` carries the personalised text (the custom message, or the programme's
WhatsApp text), so that a template with a free-text parameter delivers what the officer wrote.
The daily cap of distinct recipients is the business portfolio's messaging limit, read from
the Graph API at run time (``limits.py``); ``messaging_limit`` optionally sets a lower cap of our own (a
positive number; empty or ``unlimited``: none). When Meta's limit cannot be read the cap is the own cap,
else ``DEFAULT_MESSAGING_LIMIT`` (250: where Meta starts a new portfolio).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENV = {
    "access_token": "WHATSAPP_API_TOKEN",
    "phone_number_id": "WHATSAPP_PHONE_NUMBER_ID",
    "waba_id": "WHATSAPP_WABA_ID",
    "app_secret": "WHATSAPP_APP_SECRET",
    "verify_token": "WHATSAPP_VERIFY_TOKEN",
    "graph_version": "WHATSAPP_GRAPH_VERSION",
    "graph_url": "WHATSAPP_GRAPH_URL",
    "template_name": "WHATSAPP_TEMPLATE_NAME",
    "template_language": "WHATSAPP_TEMPLATE_LANGUAGE",
    "template_named_parameters": "WHATSAPP_TEMPLATE_NAMED_PARAMETERS",
    "template_parameters": "WHATSAPP_TEMPLATE_PARAMETERS",
    "rate_per_second": "WHATSAPP_RATE_PER_SECOND",
    "messaging_limit": "WHATSAPP_MESSAGING_LIMIT",
}
SECRET_FIELDS = ("access_token", "app_secret", "verify_token")
SETTINGS_FIELDS = tuple(name for name in ENV if name not in SECRET_FIELDS)
ENDPOINT_FIELDS = ("graph_url",)  # where the token is sent: deployment-controlled (programs/authority.py)
REQUIRED = ("access_token", "phone_number_id")
WEBHOOK_REQUIRED = ("app_secret", "verify_token")

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v25.0"
DEFAULT_TEMPLATE = "campaignid_card"
DEFAULT_LANGUAGES = (("fr", "fr"), ("en", "en"))
DEFAULT_PARAMETERS = ("first_name", "programme_name", "card_code", "verification_url")
TEXT_PARAMETER = "message"  # a template parameter that carries the personalised text as written
DEFAULT_RATE = 80.0
DEFAULT_MESSAGING_LIMIT = 250  # a new business portfolio's limit (distinct users per moving 24 h)

SANDBOX = {
    "access_token": "sandbox-whatsapp-token",
    "phone_number_id": "100000000000001",
    "waba_id": "200000000000001",
    "app_secret": "sandbox-app-secret",
    "verify_token": "sandbox-verify-token",
}

_VERSION = re.compile(r"^v?(\d+(?:\.\d+)?)$")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def sandbox_defaults(sandbox_url: str) -> dict[str, Any]:
    """Settings that talk to the bundled Graph emulator with its default credentials."""
    return {"graph_url": sandbox_url.rstrip("/") + "/graph", **SANDBOX}


@dataclass(frozen=True)
class WhatsAppConfig:
    access_token: str
    phone_number_id: str
    waba_id: str = ""
    app_secret: str = ""
    verify_token: str = ""
    graph_version: str = DEFAULT_GRAPH_VERSION
    graph_url: str = DEFAULT_GRAPH_URL
    template_name: str = DEFAULT_TEMPLATE
    template_language: tuple[tuple[str, str], ...] = DEFAULT_LANGUAGES
    template_named_parameters: bool = True
    template_parameters: tuple[str, ...] = DEFAULT_PARAMETERS
    rate_per_second: float = DEFAULT_RATE
    messaging_limit: int | None = None  # our own cap, below Meta's; None: Meta's limit only

    def __repr__(self) -> str:  # never print the secrets
        return f"WhatsAppConfig(phone_number_id={self.phone_number_id!r}, graph_url={self.graph_url!r})"

    def endpoint(self, edge: str) -> str:
        return f"{self.graph_url}/{self.graph_version}/{self.phone_number_id}/{edge}"

    def language_code(self, language: str) -> str:
        """The template language code for our ``language`` (the first mapping when unknown)."""
        mapping = dict(self.template_language)
        return mapping.get(language) or mapping.get(language.split("-")[0]) or self.template_language[0][1]


def _text(mapping: Mapping[str, Any], name: str, default: str = "") -> str:
    value = mapping.get(name)
    return default if value in (None, "") else str(value).strip()


def _required(mapping: Mapping[str, Any], name: str) -> str:
    value = _text(mapping, name)
    if not value:
        raise KeyError(f"{name} (environment {ENV[name]})")
    return value


def _version(raw: str) -> str:
    match = _VERSION.match(raw)
    if not match:
        raise ValueError(f"graph_version must look like v25.0, not {raw!r}")
    return "v" + match.group(1)


def _url(raw: str) -> str:
    if not raw.startswith(("https://", "http://")):
        raise ValueError(f"graph_url must be an http(s) URL, not {raw!r}")
    return raw.rstrip("/")


def _languages(raw: Any) -> tuple[tuple[str, str], ...]:
    if raw in (None, ""):
        return DEFAULT_LANGUAGES
    if isinstance(raw, str):
        text = raw.strip()
        raw = json.loads(text) if text.startswith("{") else dict(
            item.split(":", 1) for item in text.split(",") if ":" in item)
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError("template_language must map languages to template language codes, e.g. fr:fr,en:en")
    return tuple((str(k).strip(), str(v).strip()) for k, v in raw.items() if str(v).strip())


def _flag(raw: Any, name: str, default: bool) -> bool:
    if raw in (None, ""):
        return default
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ValueError(f"{name} must be true or false, not {raw!r}")


def _parameters(raw: Any) -> tuple[str, ...]:
    if raw in (None, ""):
        return DEFAULT_PARAMETERS
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    names = tuple(str(item).strip() for item in items if str(item).strip())
    bad = [n for n in names if not _IDENTIFIER.match(n)]
    if bad or not names:
        raise ValueError(f"template_parameters must be variable names such as first_name, not {bad or raw!r}")
    return names


def _rate(raw: Any) -> float:
    if raw in (None, ""):
        return DEFAULT_RATE
    value = float(raw)
    if not value > 0:
        raise ValueError(f"rate_per_second must be positive, not {raw!r}")
    return value


def _limit(raw: Any) -> int | None:
    if raw in (None, "") or str(raw).strip().lower() in ("unlimited", "auto"):
        return None
    text = str(raw).strip().replace("_", "").replace(",", "").replace(" ", "")
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"messaging_limit must be a positive number of recipients per day (or empty), not {raw!r}")
    return int(text)


def from_mapping(mapping: Mapping[str, Any]) -> WhatsAppConfig:
    """The frozen config; KeyError names a missing required setting, ValueError a malformed one."""
    return WhatsAppConfig(
        access_token=_required(mapping, "access_token"),
        phone_number_id=_required(mapping, "phone_number_id"),
        waba_id=_text(mapping, "waba_id"),
        app_secret=_text(mapping, "app_secret"),
        verify_token=_text(mapping, "verify_token"),
        graph_version=_version(_text(mapping, "graph_version", DEFAULT_GRAPH_VERSION)),
        graph_url=_url(_text(mapping, "graph_url", DEFAULT_GRAPH_URL)),
        template_name=_text(mapping, "template_name", DEFAULT_TEMPLATE),
        template_language=_languages(mapping.get("template_language")),
        template_named_parameters=_flag(mapping.get("template_named_parameters"), "template_named_parameters", True),
        template_parameters=_parameters(mapping.get("template_parameters")),
        rate_per_second=_rate(mapping.get("rate_per_second")),
        messaging_limit=_limit(mapping.get("messaging_limit")),
    )
