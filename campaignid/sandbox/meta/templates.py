"""Message template registry (seeded, extendable through /control) and send-time template checks.

Templates are defined in the shape of Meta's template management API:
``{"name", "language", "category", "status", "parameter_format": "NAMED"|"POSITIONAL",
"components": [{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "... {{first_name}} ..."}]}``.
Body placeholders are read from the body text: ``{{1}}..{{n}}`` (positional) or ``{{name}}`` (named).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
HEADER_FORMATS = (None, "TEXT", "IMAGE", "VIDEO", "DOCUMENT")
STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED")

CARD_FR = ("Bonjour {{first_name}}, voici votre carte du programme {{programme_name}}. "
           "Code de la carte : {{card_code}}. Vérifiez-la sur {{verification_url}}")
CARD_EN = ("Hello {{first_name}}, here is your {{programme_name}} card. "
           "Card code: {{card_code}}. Verify it at {{verification_url}}")
POSITIONAL_FR = "Bonjour {{1}}, votre carte du programme {{2}} est prête. Code : {{3}}."
POSITIONAL_EN = "Hello {{1}}, your {{2}} card is ready. Code: {{3}}."
TEXT_FR = "Bonjour {{1}}, votre carte de santé est disponible. Code : {{2}}."
TEXT_EN = "Hello {{1}}, your health card is available. Code: {{2}}."


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    body_text: str
    header_format: str | None = None
    header_text: str = ""
    parameter_format: str = "POSITIONAL"
    category: str = "UTILITY"
    status: str = "APPROVED"

    @property
    def params(self) -> tuple[str, ...]:
        found = dict.fromkeys(PLACEHOLDER.findall(self.body_text))
        return tuple(found)

    @property
    def named(self) -> bool:
        return self.parameter_format == "NAMED"

    @property
    def id(self) -> str:
        return str(10**15 + zlib.crc32(f"{self.name}/{self.language}".encode()))

    def render(self, values: dict[str, str]) -> str:
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), self.body_text)

    def as_graph(self) -> dict[str, Any]:
        components: list[dict[str, Any]] = []
        if self.header_format:
            header: dict[str, Any] = {"type": "HEADER", "format": self.header_format}
            if self.header_text:
                header["text"] = self.header_text
            components.append(header)
        components.append({"type": "BODY", "text": self.body_text})
        return {"name": self.name, "language": self.language, "status": self.status, "category": self.category,
                "parameter_format": self.parameter_format, "components": components, "id": self.id}


def parse_definition(data: dict[str, Any]) -> Template:
    """Build a Template from a Meta-shaped definition; raise ValueError when it is malformed."""
    if not isinstance(data, dict) or not data.get("name") or not data.get("language"):
        raise ValueError("a template needs name and language")
    components = {str(c.get("type", "")).upper(): c for c in data.get("components", []) if isinstance(c, dict)}
    body = components.get("BODY", {}).get("text") or data.get("body_text")
    if not isinstance(body, str) or not body:
        raise ValueError("a template needs a BODY component with text")
    header = components.get("HEADER", {})
    header_format = header.get("format", data.get("header_format"))
    header_format = header_format.upper() if isinstance(header_format, str) else None
    parameter_format = str(data.get("parameter_format", "POSITIONAL")).upper()
    status = str(data.get("status", "APPROVED")).upper()
    if header_format not in HEADER_FORMATS or parameter_format not in ("NAMED", "POSITIONAL"):
        raise ValueError("header format or parameter_format not supported")
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    template = Template(name=str(data["name"]), language=str(data["language"]), body_text=body,
                        header_format=header_format, header_text=str(header.get("text", "")),
                        parameter_format=parameter_format, category=str(data.get("category", "UTILITY")).upper(),
                        status=status)
    if not template.named and template.params != tuple(str(i) for i in range(1, len(template.params) + 1)):
        raise ValueError("positional placeholders must be {{1}}..{{n}} in order")
    return template


def _seed() -> list[Template]:
    seeds = []
    for language, card, positional, text in (("fr", CARD_FR, POSITIONAL_FR, TEXT_FR),
                                             ("en", CARD_EN, POSITIONAL_EN, TEXT_EN)):
        seeds += [
            Template("campaignid_card", language, card, header_format="IMAGE", parameter_format="NAMED"),
            Template("campaignid_card_positional", language, positional, header_format="IMAGE"),
            Template("campaignid_card_text", language, text),
        ]
    seeds.append(Template("hello_world", "en_US", "Welcome and congratulations!! This message demonstrates "
                          "your ability to send a WhatsApp message notification from the Cloud API, hosted by "
                          "Meta. Thank you for taking the time to test with us.", header_format="TEXT",
                          header_text="Hello World"))
    return seeds


class TemplateRegistry:
    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Template] = {}
        self.reset()

    def reset(self) -> None:
        self._items = {(t.name, t.language): t for t in _seed()}

    def add(self, template: Template) -> None:
        self._items[(template.name, template.language)] = template

    def get(self, name: str, language: str) -> Template | None:
        return self._items.get((name, language))

    def all(self) -> list[Template]:
        return list(self._items.values())
