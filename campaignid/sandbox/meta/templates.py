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
STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL", "PENDING_DELETION", "ARCHIVED")
QUALITIES = ("GREEN", "YELLOW", "RED", "UNKNOWN")
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
# Sample values Meta requires at creation for every placeholder (``example`` of the components).
SAMPLE_VALUES = {"first_name": "Aminata", "programme_name": "Vaccination", "card_code": "AAA-VAC-0001",
                 "verification_url": "https://cards.example.org/c/AAA-VAC-0001"}
POSITIONAL_SAMPLES = ("Aminata", "Vaccination", "AAA-VAC-0001", "https://cards.example.org/c/AAA-VAC-0001")
HEADER_HANDLE = "4::aW1hZ2UvcG5n:ARZsample-header-handle-from-the-resumable-upload-api"

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
    quality: str = "GREEN"
    rejected_reason: str = "NONE"
    examples: tuple[str, ...] = ()  # one sample value per body placeholder, in order

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

    def sample_values(self) -> list[str]:
        if self.examples:
            return list(self.examples)
        if self.named:
            return [SAMPLE_VALUES.get(name, name.replace("_", " ")) for name in self.params]
        return [POSITIONAL_SAMPLES[i % len(POSITIONAL_SAMPLES)] for i in range(len(self.params))]

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "BODY", "text": self.body_text}
        if self.params and self.named:
            body["example"] = {"body_text_named_params": [
                {"param_name": name, "example": value} for name, value in zip(self.params, self.sample_values(),
                                                                               strict=True)]}
        elif self.params:
            body["example"] = {"body_text": [self.sample_values()]}
        return body

    def components(self) -> list[dict[str, Any]]:
        components: list[dict[str, Any]] = []
        if self.header_format:
            header: dict[str, Any] = {"type": "HEADER", "format": self.header_format}
            if self.header_text:
                header["text"] = self.header_text
            if self.header_format in ("IMAGE", "VIDEO", "DOCUMENT"):
                header["example"] = {"header_handle": [HEADER_HANDLE]}
            components.append(header)
        components.append(self._body())
        return components

    def as_graph(self) -> dict[str, Any]:
        return {"name": self.name, "parameter_format": self.parameter_format, "components": self.components(),
                "language": self.language, "status": self.status, "category": self.category,
                "quality_score": {"score": self.quality}, "rejected_reason": self.rejected_reason,
                "id": self.id}


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
    quality = str((data.get("quality_score") or {}).get("score", "GREEN")).upper()
    category = str(data.get("category", "UTILITY")).upper()
    if quality not in QUALITIES or category not in CATEGORIES:
        raise ValueError(f"quality_score.score must be one of {QUALITIES}, category one of {CATEGORIES}")
    template = Template(name=str(data["name"]), language=str(data["language"]), body_text=body,
                        header_format=header_format, header_text=str(header.get("text", "")),
                        parameter_format=parameter_format, category=category, status=status, quality=quality)
    if not template.named and template.params != tuple(str(i) for i in range(1, len(template.params) + 1)):
        raise ValueError("positional placeholders must be {{1}}..{{n}} in order")
    return template


HOUSEHOLD_FR = ("Bonjour, voici les {{card_count}} cartes de santé de votre foyer pour le programme "
                "{{programme_name}}, dans le document joint. Chaque carte est aussi ici : {{household_url}}")
HOUSEHOLD_EN = ("Hello, here are the {{card_count}} health cards of your household for the {{programme_name}} "
                "programme, in the attached document. Each card is also here: {{household_url}}")


def _seed() -> list[Template]:
    seeds = []
    for language, card, positional, text in (("fr", CARD_FR, POSITIONAL_FR, TEXT_FR),
                                             ("en", CARD_EN, POSITIONAL_EN, TEXT_EN)):
        seeds += [
            Template("campaignid_card", language, card, header_format="IMAGE", parameter_format="NAMED"),
            Template("campaignid_card_positional", language, positional, header_format="IMAGE"),
            Template("campaignid_card_text", language, text),
        ]
    seeds += [Template("campaignid_household", language, body, header_format="DOCUMENT", parameter_format="NAMED")
              for language, body in (("fr", HOUSEHOLD_FR), ("en", HOUSEHOLD_EN))]
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

    def replace(self, template: Template) -> None:
        """Change a known template in place (its position in listings is kept)."""
        self._items[(template.name, template.language)] = template
