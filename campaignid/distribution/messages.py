"""Message templates: ``{first_name}``-style variables, nothing else (no attribute or index access)."""

from __future__ import annotations

import string

VARIABLES = ("first_name", "last_name", "programme_name", "card_code", "verification_url", "issue_date",
             "expiry_date")
# a household's message (several cards, one phone) also knows these
HOUSEHOLD_VARIABLES = (*VARIABLES, "card_count", "household_url")


class TemplateError(ValueError):
    pass


class _Formatter(string.Formatter):
    def __init__(self, allowed: tuple[str, ...] = VARIABLES) -> None:
        self.allowed = allowed

    def get_field(self, field_name, args, kwargs):
        if field_name not in self.allowed:
            known = ", ".join("{" + v + "}" for v in self.allowed)
            raise TemplateError(f"Unknown variable {{{field_name}}}; use {known}.")
        return kwargs.get(field_name, ""), field_name

    def format_field(self, value, format_spec):
        return str(value)


def validate(template: str) -> None:
    """Raise TemplateError with a readable message if the template cannot be rendered."""
    render(template, {})


def render(template: str, variables: dict[str, str], allowed: tuple[str, ...] = VARIABLES) -> str:
    try:
        return _Formatter(allowed).format(template, **variables).strip()
    except TemplateError:
        raise
    except (ValueError, IndexError, KeyError) as exc:
        raise TemplateError(f"The message template is not valid: {exc}. Write variables as {{first_name}}; "
                            "double the braces to write a literal brace.") from exc
