"""Pure builders: IDs, the generic class and object, the OAuth assertion and the save-JWT claims.

What goes on a pass: the programme name (card title), the holder's name (pass title), the card code
(under the QR code), the signed card token (the QR code), issue and expiry dates, the programme colour
and logo, a link to the public verification page. Never a phone number, an address or medical data.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from typing import Any
from urllib.parse import urlparse

from ..base import CardView
from .conf import WalletConfig

WALLET_SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SAVE_AUDIENCE, SAVE_TYPE = "google", "savetowallet"
ASSERTION_LIFETIME = 3600  # Google accepts at most one hour
MAX_SAVE_JWT = 1800  # longer links break in some browsers, e-mail and SMS (reference §3.3)
ACTIVE, EXPIRED = "ACTIVE", "EXPIRED"
DEFAULT_COLOUR = "#0B5F56"
MULTIPLE_HOLDERS = "MULTIPLE_HOLDERS"  # a child's card is often saved by both parents

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")
LABELS = {
    "fr": {"holder": "Bénéficiaire", "issued": "Date d'émission", "expires": "Date d'expiration",
           "verify": "Vérifier la carte", "logo": "Logo du programme"},
    "en": {"holder": "Beneficiary", "issued": "Issued on", "expires": "Expires on",
           "verify": "Check this card", "logo": "Programme logo"},
}


# --- identifiers ----------------------------------------------------------------------------------------
def sanitise(text: str) -> str:
    """An identifier Google accepts: characters outside ``[A-Za-z0-9._-]`` become ``_``."""
    return _UNSAFE.sub("_", text.strip()) or "_"


def class_id(config: WalletConfig, programme_uid: str) -> str:
    """One generic class per programme."""
    return f"{config.issuer_id}.{config.class_suffix}.{sanitise(programme_uid)}"


def object_id(config: WalletConfig, card_code: str) -> str:
    """One generic object per card: stable across updates, so updating a card patches its pass."""
    return f"{config.issuer_id}.{config.class_suffix}.{sanitise(card_code)}"


# --- class and object --------------------------------------------------------------------------------
def generic_class(config: WalletConfig, programme_uid: str) -> dict[str, Any]:
    return {"id": class_id(config, programme_uid), "multipleDevicesAndHoldersAllowedStatus": MULTIPLE_HOLDERS}


def language_of(language: str) -> str:
    return "en" if (language or "").lower().startswith("en") else "fr"


def localized(value: str, language: str) -> dict[str, Any]:
    return {"defaultValue": {"language": language, "value": value}}


def format_date(day: date, language: str) -> str:
    if language == "en":
        return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return day.strftime("%d/%m/%Y")


def is_public_https(url: str) -> bool:
    """Google fetches pass images itself: only an https URL on a public host will render."""
    parsed = urlparse(url or "")
    host = (parsed.hostname or "").lower()
    if parsed.scheme != "https" or not host or host == "localhost" or host.endswith((".local", ".internal")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." in host
    return address.is_global


def state_of(card: CardView) -> str:
    return ACTIVE if card.status == "valid" else EXPIRED


def _dates(card: CardView, labels: dict[str, str], language: str) -> tuple[dict, list[dict]]:
    interval: dict[str, Any] = {"start": {"date": f"{card.issued_at.isoformat()}T00:00:00Z"}}
    modules = [{"id": "issued", "header": labels["issued"], "body": format_date(card.issued_at, language)}]
    if card.expires_at is not None:
        interval["end"] = {"date": f"{card.expires_at.isoformat()}T23:59:59Z"}
        modules.append({"id": "expires", "header": labels["expires"],
                        "body": format_date(card.expires_at, language)})
    return interval, modules


def generic_object(config: WalletConfig, card: CardView, language: str) -> dict[str, Any]:
    """The full GenericObject of a card (insert body; also the PATCH body of an update)."""
    lang = language_of(language)
    labels = LABELS[lang]
    interval, modules = _dates(card, labels, lang)
    colour = card.primary_colour if _COLOUR.match(card.primary_colour or "") else DEFAULT_COLOUR
    body: dict[str, Any] = {
        "id": object_id(config, card.code),
        "classId": class_id(config, card.programme_uid),
        "genericType": "GENERIC_OTHER",
        "state": state_of(card),
        "cardTitle": localized(card.programme_name, lang),
        "subheader": localized(labels["holder"], lang),
        "header": localized(card.display_name or card.code, lang),
        "barcode": {"type": "QR_CODE", "value": card.qr_text or card.token, "alternateText": card.code,
                    "renderEncoding": "UTF_8"},
        "hexBackgroundColor": colour,
        "validTimeInterval": interval,
        "textModulesData": modules,
    }
    if card.verification_url:
        body["linksModuleData"] = {"uris": [{"uri": card.verification_url, "description": labels["verify"],
                                             "id": "verify"}]}
    if is_public_https(card.logo_url):
        body["logo"] = {"sourceUri": {"uri": card.logo_url},
                        "contentDescription": localized(card.programme_name or labels["logo"], lang)}
    return body


def contains(stored: Any, wanted: Any) -> bool:
    """Whether a stored resource already holds every field we would send (Google may add its own)."""
    if isinstance(wanted, dict):
        return isinstance(stored, dict) and all(contains(stored.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return (isinstance(stored, list) and len(stored) == len(wanted)
                and all(contains(s, w) for s, w in zip(stored, wanted, strict=True)))
    return stored == wanted


# --- JWT claims ------------------------------------------------------------------------------------
def assertion_claims(email: str, token_url: str, now: int) -> dict[str, Any]:
    """The service-account assertion exchanged for an access token (RS256, kid = private_key_id)."""
    return {"iss": email, "scope": WALLET_SCOPE, "aud": token_url, "iat": now, "exp": now + ASSERTION_LIFETIME}


def save_claims(email: str, origins: tuple[str, ...], now: int, objects: list[dict[str, Any]]) -> dict[str, Any]:
    """Claims of an "Add to Google Wallet" JWT; ``objects`` are full objects (fat) or references (skinny)."""
    return {"iss": email, "aud": SAVE_AUDIENCE, "typ": SAVE_TYPE, "iat": now, "origins": list(origins),
            "payload": {"genericObjects": objects}}


def skinny(obj: dict[str, Any]) -> dict[str, str]:
    """A reference to an object already inserted: id and classId only."""
    return {"id": obj["id"], "classId": obj["classId"]}
