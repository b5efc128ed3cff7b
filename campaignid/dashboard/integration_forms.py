"""The typed channel forms of Settings > Integrations: checkboxes for booleans, number inputs for numbers,
each value checked before anything is saved (or tested), errors in the officer's language beside the field,
and the real default of every field (what applies when it is left empty)."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from campaignid.channels import registry

BOOLEANS = {"template_named_parameters", "gsm7_only"}
NUMBERS = {"rate_per_second": "any", "messaging_limit": "1"}  # name → the input's step
URLS = {"graph_url", "api_url", "token_url", "save_url"}
ERRORS = {
    "rate_per_second": _("Enter a number of messages per second greater than 0."),
    "messaging_limit": _("Enter a whole number of recipients per day greater than 0, or leave it empty."),
    "graph_version": _("Write the version as v25.0."),
    "template_language": _("Map each language to a template language code, e.g. fr:fr,en:en."),
    "template_parameters": _("List variable names separated by commas, e.g. first_name,card_code."),
    "sender_name": _("At most 11 letters, digits, spaces or . _ & ' -"),
    "default_country": _("Enter the ISO code of a country served by Orange SMS, e.g. SN."),
    "origins": _("List web origins separated by commas, e.g. https://cards.example.org."),
}
URL_ERROR = _("Enter an address starting with https:// (or http://).")
BOOLEAN_ERROR = _("Tick or untick the box.")
HELP = {
    "template_parameters": _("In order, the variables that fill the approved template's body: named templates use "
                             "them as parameter names, positional ones fill {{1}}, {{2}}… Available: first_name, "
                             "last_name, programme_name, card_code, verification_url, issue_date, expiry_date, and "
                             "message (the text written in the dashboard or the API, so that a template with a "
                             "free-text parameter delivers it)."),
    "template_language": _("Our language → the template's language code at Meta, e.g. fr:fr,en:en_US."),
    "gsm7_only": _("Accents are rewritten (é → e) so that each SMS costs 1 unit per 160 characters instead of "
                   "70."),
    "messaging_limit": _("Empty: Meta's limit for the business portfolio, read at run time."),
}


@dataclass
class Field:
    name: str
    label: str
    kind: str  # "bool" | "number" | "url" | "text"
    value: str  # the organisation's own value, or what was typed
    inherited: str  # what applies when empty (environment, sandbox)
    default: str  # the built-in default
    checked: bool = False
    step: str = "any"
    error: str = ""
    help: str = ""


@dataclass
class Parsed:
    settings: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def kind_of(name: str) -> str:
    if name in BOOLEANS:
        return "bool"
    if name in NUMBERS:
        return "number"
    return "url" if name in URLS else "text"


def _shown(value) -> str:
    if value is None or value == ():
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple):
        return ",".join(":".join(v) if isinstance(v, tuple) else str(v) for v in value)
    return str(value)


def defaults(kind: str) -> dict[str, str]:
    """The built-in default of every setting, read from the provider's frozen config."""
    try:
        config_type = typing.get_type_hints(registry.module_for(kind).CHANNEL.config_from)["return"]
        fields = dataclasses.fields(config_type)
    except (KeyError, TypeError, NameError):
        return {}
    return {f.name: _shown(f.default) for f in fields if f.default is not dataclasses.MISSING}


def truthy(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def fields_for(kind: str, own: dict, inherited: dict, labels: dict, typed: dict | None = None,
               errors: dict | None = None) -> list[Field]:
    base, out = defaults(kind), []
    for name in registry.module_for(kind).SETTINGS_FIELDS:
        value = _shown(typed[name] if typed and name in typed else own.get(name))
        applies = _shown(inherited.get(name)) or base.get(name, "")
        f = Field(name, str(labels.get(name, name)), kind_of(name), value, _shown(inherited.get(name)),
                  base.get(name, ""), step=NUMBERS.get(name, "any"), help=str(HELP.get(name, "")),
                  error=str((errors or {}).get(name, "")))
        f.checked = truthy(value) if value else truthy(applies)
        out.append(f)
    return out


def _number(name: str, text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return value > 0 and (NUMBERS[name] != "1" or value.is_integer())


def parse(kind: str, post, own: dict, inherited: dict) -> Parsed:
    """The settings to store from a submitted form, and the error of each field that is not valid.

    A box left as it is inherited stores nothing, so the organisation keeps following the environment."""
    out, base = Parsed(), defaults(kind)
    for name in registry.module_for(kind).SETTINGS_FIELDS:
        if kind_of(name) == "bool":
            checked = post.get(name) in ("1", "true", "on")
            applies = truthy(_shown(inherited.get(name)) or base.get(name, ""))
            if name in own or checked != applies:
                out.settings[name] = "true" if checked else "false"
            continue
        if name not in post:
            continue
        text = post.get(name, "").strip()
        out.settings[name] = text
        if not text:
            continue
        if kind_of(name) == "number" and not _number(name, text):
            out.errors[name] = str(ERRORS[name])
        elif kind_of(name) == "url" and not text.startswith(("https://", "http://")):
            out.errors[name] = str(URL_ERROR)
    return out


def check(kind: str, mapping: dict, parsed: Parsed) -> None:
    """Build the provider's config from the merged values; a malformed value becomes its field's error
    (the provider's messages start with the setting's name). Missing credentials are not errors here."""
    if parsed.errors:
        return
    try:
        registry.module_for(kind).CHANNEL.config_from(mapping)
    except KeyError:
        return
    except ValueError as exc:
        text = str(exc)
        for name in registry.module_for(kind).SETTINGS_FIELDS:
            if text.startswith(name) or f" {name} " in f" {text} ":
                parsed.errors[name] = str(ERRORS.get(name) or (URL_ERROR if name in URLS else BOOLEAN_ERROR))
                return
        parsed.errors["__all__"] = text
