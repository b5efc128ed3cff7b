"""Send-time checks of a ``template`` message object against the registry (132001, 132000, 132012…)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import GraphError, invalid, missing
from .templates import Template, TemplateRegistry

MAX_RENDERED_BODY = 1024
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
# (media object, where) -> resolved reference, raising GraphError when the media is unusable.
Resolver = Callable[[dict[str, Any], str], dict[str, Any]]


@dataclass
class RenderedTemplate:
    template: Template
    text: str
    header: dict[str, Any] | None  # resolved header media reference, if the template has a media header


def _status_error(template: Template) -> GraphError | None:
    if template.status == "PAUSED":
        return GraphError(132015, f"template {template.name} is paused")
    if template.status == "DISABLED":
        return GraphError(132016, f"template {template.name} is disabled")
    if template.status != "APPROVED":
        return GraphError(132001, f"template name ({template.name}) is not approved in {template.language}")
    return None


def _components(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    components = obj.get("components") or []
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise invalid("Param template['components'] must be an array of objects.")
    return {str(c.get("type", "")).lower(): c for c in components}


def _count_error(where: str, given: int, expected: int) -> GraphError:
    return GraphError(132000, f"{where}: number of localizable_params ({given}) does not match the expected "
                              f"number of params ({expected})")


def _check_header(template: Template, component: dict[str, Any] | None, resolve: Resolver) -> dict | None:
    params = (component or {}).get("parameters") or []
    fmt = template.header_format
    if fmt not in MEDIA_FORMATS:
        if params:
            raise _count_error("header", len(params), 0)
        return None
    first = params[0] if params and isinstance(params[0], dict) else {}
    kind = fmt.lower()
    received = str(first.get("type") or "UNKNOWN").upper()
    if received == fmt and not isinstance(first.get(kind), dict):
        received = "UNKNOWN"
    if received != fmt:
        raise GraphError(132012, f"header: Format mismatch, expected {fmt}, received {received}")
    if len(params) != 1:
        raise _count_error("header", len(params), 1)
    if fmt == "DOCUMENT" and "filename" in first[kind] and not isinstance(first[kind]["filename"], str):
        raise invalid("Param header['document']['filename'] must be a string.")
    return resolve(first[kind], f"header['{kind}']")


def _param_value(param: Any) -> str:
    if not isinstance(param, dict):
        raise invalid("Param template['components'][body]['parameters'] must be an array of objects.")
    ptype = str(param.get("type") or "")
    if ptype == "text":
        value = param.get("text")
        if not isinstance(value, str) or not value.strip():
            raise GraphError(131008, "body: text parameter is missing or empty")
        if "\n" in value or "\t" in value or "     " in value:
            raise GraphError(132018, "Param text cannot have new-line/tab characters or more than 4 consecutive "
                                     "spaces")
        return value
    if ptype in ("currency", "date_time"):
        value = (param.get(ptype) or {}).get("fallback_value")
        if not isinstance(value, str) or not value:
            raise GraphError(131008, f"body: {ptype} parameter needs a fallback_value")
        return value
    raise GraphError(132012, f"body: Format mismatch, expected TEXT, received {ptype.upper() or 'UNKNOWN'}")


def _check_body(template: Template, component: dict[str, Any] | None) -> dict[str, str]:
    params = (component or {}).get("parameters") or []
    expected = template.params
    if not isinstance(params, list) or len(params) != len(expected):
        raise _count_error("body", len(params) if isinstance(params, list) else 0, len(expected))
    values: dict[str, str] = {}
    for index, param in enumerate(params, 1):
        value = _param_value(param)
        if not template.named:
            values[str(index)] = value
            continue
        name = param.get("parameter_name")
        if not name:
            raise invalid("body: parameter_name is required for templates with named parameters")
        if name not in expected or name in values:
            raise GraphError(132000, f"body: parameter_name '{name}' does not match the template parameters "
                                     f"({', '.join(expected)})")
        values[name] = value
    return values


def check_template(obj: Any, registry: TemplateRegistry, resolve: Resolver) -> RenderedTemplate:
    if not isinstance(obj, dict):
        raise GraphError(131008, "The parameter template is required.")
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        raise missing("template['name']")
    language = obj.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    if not isinstance(code, str) or not code:
        raise missing("template['language']['code']")
    template = registry.get(name, code)
    if template is None:
        raise GraphError(132001, f"template name ({name}) does not exist in {code}")
    if (error := _status_error(template)) is not None:
        raise error
    components = _components(obj)
    header = _check_header(template, components.get("header"), resolve)
    text = template.render(_check_body(template, components.get("body")))
    if len(text) > MAX_RENDERED_BODY:
        raise GraphError(132005, f"body: hydrated text is {len(text)} characters, more than {MAX_RENDERED_BODY}")
    return RenderedTemplate(template, text, header)
