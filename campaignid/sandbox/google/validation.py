"""Google-shaped validation of genericClass / genericObject bodies. Pure functions: they raise ApiError(400)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from .errors import ApiError, invalid

ID_RE = re.compile(r"^(\d+)\.([A-Za-z0-9._-]+)$")
ISSUER_RE = re.compile(r"^\d+$")
TEXT_MODULE_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
HEX_COLOUR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
DATETIME_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:T(?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<frac>\.\d{1,9})?)?"
    r"(?P<offset>Z|[+-]\d{2}:\d{2}(?::\d{2})?)?$"
)
STATES = {"STATE_UNSPECIFIED", "ACTIVE", "active", "COMPLETED", "completed", "EXPIRED", "expired",
          "INACTIVE", "inactive"}
EXPIRED_STATES = {"EXPIRED", "INACTIVE"}
BARCODE_TYPES = {
    "BARCODE_TYPE_UNSPECIFIED", "AZTEC", "aztec", "CODE_39", "code39", "CODE_128", "code128", "CODABAR", "codabar",
    "DATA_MATRIX", "dataMatrix", "EAN_8", "ean8", "EAN_13", "ean13", "EAN13", "ITF_14", "itf14", "PDF_417",
    "pdf417", "PDF417", "QR_CODE", "qrCode", "qrcode", "UPC_A", "upcA", "TEXT_ONLY", "textOnly",
}
RENDER_ENCODINGS = {"RENDER_ENCODING_UNSPECIFIED", "UTF_8", "utf8"}
CLASS_FIELDS = {
    "id", "classTemplateInfo", "imageModulesData", "textModulesData", "linksModuleData", "enableSmartTap",
    "redemptionIssuers", "securityAnimation", "multipleDevicesAndHoldersAllowedStatus", "callbackOptions",
    "viewUnlockRequirement", "messages", "appLinkData", "valueAddedModuleData", "merchantLocations",
    "notifyPreference",
}
OBJECT_FIELDS = {
    "id", "classId", "cardTitle", "header", "subheader", "state", "barcode", "hexBackgroundColor", "logo",
    "wideLogo", "heroImage", "textModulesData", "linksModuleData", "imageModulesData", "validTimeInterval",
    "genericType", "groupingInfo", "notifications", "messages", "rotatingBarcode", "passConstraints",
    "saveRestrictions", "linkedObjectIds", "appLinkData", "smartTapRedemptionValue", "valueAddedModuleData",
    "merchantLocations", "hasUsers", "notifyPreference",
}
IMAGE_FIELDS = ("logo", "wideLogo", "heroImage")
MAX_MESSAGES = 10


def issuer_of(resource_id: Any) -> str:
    """The issuer prefix of ``issuerID.identifier``; 400 invalidResource when the id is malformed."""
    match = ID_RE.match(resource_id) if isinstance(resource_id, str) else None
    if match is None:
        raise invalid(f"Invalid resource ID: {resource_id}", "invalidResource")
    return match.group(1)


def check_issuer_id(issuer_id: str) -> str:
    if not ISSUER_RE.match(issuer_id or ""):
        raise invalid(f"Invalid issuer ID: {issuer_id}", "invalidResource")
    return issuer_id


def check_known_fields(body: Any, allowed: set[str]) -> None:
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received. Expected an object.")
    for name in body:
        if name not in allowed:
            raise invalid(f'Invalid JSON payload received. Unknown name "{name}" at \'resource\': Cannot find field.')


def check_localized(value: Any, path: str, required: bool = False) -> None:
    """A LocalizedString needs ``defaultValue`` with a language and a value (and so does each translation)."""
    if value is None:
        if required:
            raise invalid(f"{path} is required.", "invalidArgument")
        return
    default = value.get("defaultValue") if isinstance(value, dict) else None
    entries = [default] + list(value.get("translatedValues") or []) if isinstance(value, dict) else [None]
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("language") or not entry.get("value"):
            raise invalid(f"{path}.defaultValue must have a non-empty language and value.")


def check_image(image: Any, path: str) -> None:
    if image is None:
        return
    if not isinstance(image, dict):
        raise invalid(f"{path} must be an Image object.")
    has_uri, has_private = "sourceUri" in image, "privateImageId" in image
    if has_uri == has_private:
        raise invalid(f"{path}: exactly one of sourceUri or privateImageId must be set.")
    if has_uri:
        uri = (image.get("sourceUri") or {}).get("uri", "") if isinstance(image.get("sourceUri"), dict) else ""
        parsed = urlparse(str(uri))
        if not parsed.scheme or (parsed.scheme in ("http", "https") and not parsed.netloc):
            raise invalid(f"{path}.sourceUri.uri must be an absolute URI with a scheme, got '{uri}'.")
    check_localized(image.get("contentDescription"), f"{path}.contentDescription")


def check_modules(body: dict[str, Any]) -> None:
    """Text module ids (no dots) and module images, shared by classes and objects."""
    for i, module in enumerate(body.get("textModulesData") or []):
        module_id = module.get("id") if isinstance(module, dict) else None
        if module_id is not None and not TEXT_MODULE_ID_RE.match(str(module_id)):
            raise invalid(f"Invalid textModulesData[{i}].id '{module_id}': only alphanumerics, '_' and '-' "
                          f"are allowed.")
    for i, module in enumerate(body.get("imageModulesData") or []):
        check_image(module.get("mainImage") if isinstance(module, dict) else module,
                    f"imageModulesData[{i}].mainImage")


def parse_datetime(value: Any, path: str) -> tuple[datetime, bool]:
    """Parse an ISO-8601 date-time; returns (aware datetime, whether an offset was given)."""
    match = DATETIME_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise invalid(f"Invalid {path}: '{value}' is not an ISO 8601 date-time.")
    text = match["date"] + "T" + (match["time"] or "00:00") + (match["frac"] or "")[:7]
    offset = match["offset"]
    try:
        parsed = datetime.fromisoformat(text + ("+00:00" if offset in (None, "Z") else offset))
    except ValueError as exc:
        raise invalid(f"Invalid {path}: '{value}' is not an ISO 8601 date-time.") from exc
    return parsed, offset is not None


def interval_bounds(interval: Any) -> dict[str, tuple[datetime, bool]]:
    bounds = {}
    for end in ("start", "end"):
        if isinstance(interval, dict) and interval.get(end) is not None:
            date = interval[end].get("date") if isinstance(interval[end], dict) else None
            bounds[end] = parse_datetime(date, f"validTimeInterval.{end}.date")
    return bounds


def check_interval(interval: Any) -> None:
    if interval is None:
        return
    if not isinstance(interval, dict):
        raise invalid("validTimeInterval must be an object.")
    bounds = interval_bounds(interval)
    if len(bounds) == 2 and bounds["start"][1] != bounds["end"][1]:
        raise invalid("validTimeInterval: start and end must both have an offset, or neither.")


def check_barcode(barcode: Any) -> None:
    if barcode is None:
        return
    if not isinstance(barcode, dict) or barcode.get("type") not in BARCODE_TYPES:
        kind = barcode.get("type") if isinstance(barcode, dict) else barcode
        raise invalid(f"Invalid value at 'resource.barcode.type', \"{kind}\"")
    encoding = barcode.get("renderEncoding")
    if encoding is not None and encoding not in RENDER_ENCODINGS:
        raise invalid(f"Invalid value at 'resource.barcode.render_encoding', \"{encoding}\"")


def validate_class(body: Any) -> str:
    """Validate a GenericClass; returns its issuer id."""
    check_known_fields(body, CLASS_FIELDS)
    issuer = issuer_of(body.get("id"))
    check_modules(body)
    return issuer


def validate_object(body: Any, class_exists: Callable[[str], bool]) -> str:
    """Validate a GenericObject; returns its issuer id. ``class_exists`` looks a class id up."""
    check_known_fields(body, OBJECT_FIELDS)
    issuer = issuer_of(body.get("id"))
    class_id = body.get("classId")
    if not class_id:
        raise invalid("classId is required.")
    if issuer_of(class_id) != issuer:
        raise invalid(f"classId {class_id} does not belong to issuer {issuer}.", "invalidResource")
    if not class_exists(class_id):
        raise invalid(f"Invalid classId: the class {class_id} does not exist.", "invalidResource")
    check_localized(body.get("cardTitle"), "cardTitle", required=True)
    check_localized(body.get("header"), "header", required=True)
    check_localized(body.get("subheader"), "subheader")
    if body.get("state") is not None and body["state"] not in STATES:
        raise invalid(f"Invalid value at 'resource.state', \"{body['state']}\"")
    check_barcode(body.get("barcode"))
    colour = body.get("hexBackgroundColor")
    if colour is not None and not (isinstance(colour, str) and HEX_COLOUR_RE.match(colour)):
        raise invalid(f"Invalid hexBackgroundColor '{colour}': expected #RRGGBB.")
    for name in IMAGE_FIELDS:
        check_image(body.get(name), name)
    check_modules(body)
    check_interval(body.get("validTimeInterval"))
    return issuer


def check_message_count(resource: dict[str, Any]) -> None:
    if len(resource.get("messages") or []) > MAX_MESSAGES:
        raise invalid(f"Too many messages: at most {MAX_MESSAGES} are allowed.")


def is_expired(obj: dict[str, Any], now: float) -> bool:
    """Expired/inactive state, or past the end of ``validTimeInterval``, on the sandbox clock."""
    if str(obj.get("state", "ACTIVE")).upper() in EXPIRED_STATES:
        return True
    try:
        end = interval_bounds(obj.get("validTimeInterval")).get("end")
    except ApiError:
        return False
    return end is not None and end[0] < datetime.fromtimestamp(now, tz=UTC)
