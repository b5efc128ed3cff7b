"""What a recipient's phone will show on a channel with approved templates (WhatsApp), decided by one rule
for the send, the dashboard preview, the bulk review and the API:

- ``free_form``: the text as written; only to a person who wrote to this account within the last 24 h
  (the window), when there is a custom message or the programme allows free-form messages;
- ``template_with_text``: the approved template, whose free-text parameter carries the text;
- ``template_only``: the approved template's own text; a custom message would NOT reach the phone, so the
  API and the dashboard refuse it before anything is sent, and the preview says what is sent instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

FREE_FORM, TEMPLATE_WITH_TEXT, TEMPLATE_ONLY = "free_form", "template_with_text", "template_only"


@dataclass(frozen=True)
class TextPlan:
    mode: str
    template: str = ""  # the template's name, when one is sent
    body: str = ""  # its text filled with the variables, as last synced from the provider ("" when unknown)

    @property
    def loses_custom_text(self) -> bool:
        return self.mode == TEMPLATE_ONLY


def free_form_wanted(program, custom: bool) -> bool:
    return custom or bool(program.options.get("whatsapp_free_form", False))


def window_open(account: str, recipient: str, at: datetime | None = None) -> bool:
    from .contacts import window_open as is_open

    return bool(recipient) and is_open(account, recipient, at or timezone.now())


def mode(channel, program, custom: bool, recipient: str) -> str:
    if free_form_wanted(program, custom) and window_open(channel.account_key, recipient):
        return FREE_FORM
    return TEMPLATE_WITH_TEXT if channel.template_carries_text() else TEMPLATE_ONLY


def template_body(channel, language: str) -> tuple[str, str]:
    """(template name, its body as last synced) of what ``channel`` sends in ``language``."""
    from campaignid.channels.models import MessageTemplate

    found = channel.template_for(language)
    if found is None:
        return "", ""
    name, code = found
    row = (MessageTemplate.objects.filter(channel=channel.kind, owner=channel.template_owner, name=name,
                                          language=code).exclude(status="deleted").first())
    return name, str((row.content or {}).get("body") or "") if row else ""


def plan(channel, program, custom: bool, recipient: str, variables: dict[str, str]) -> TextPlan:
    how = mode(channel, program, custom, recipient)
    if how == FREE_FORM:
        return TextPlan(FREE_FORM)
    name, body = template_body(channel, program.language)
    return TextPlan(how, name, channel.template_text(body, variables) if body else "")
