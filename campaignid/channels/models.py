"""Provider credentials per organisation, optionally overridden per programme."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaignid.lib.crypto import EncryptedJSONField

CHANNELS = [("whatsapp", "WhatsApp"), ("sms", "SMS"), ("google_wallet", "Google Wallet"), ("print", _("Print"))]


class ChannelConfig(models.Model):
    """One provider account. ``settings`` is plain configuration; ``secrets`` is encrypted at rest and
    never returned by the API or shown in the dashboard (write-only)."""

    organisation = models.ForeignKey("programs.Organisation", on_delete=models.CASCADE, related_name="channel_configs")
    program = models.ForeignKey(
        "programs.Program", on_delete=models.CASCADE, null=True, blank=True, related_name="channel_configs",
        help_text=_("Set to override the organisation's account for one programme."),
    )
    channel = models.CharField(max_length=20, choices=CHANNELS)
    enabled = models.BooleanField(default=True)
    settings = models.JSONField(default=dict, blank=True)
    secrets = EncryptedJSONField(blank=True, default=dict)
    paused_until = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "program", "channel"], name="uniq_channel_config"),
            models.UniqueConstraint(
                fields=["organisation", "channel"], condition=models.Q(program__isnull=True),
                name="uniq_org_channel_config",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.channel}" + (f" · {self.program}" if self.program_id else "")


class MessageTemplate(models.Model):
    """A provider's message template as last synced or notified (WhatsApp: one per name × language of a
    business account). ``accepted_category`` / ``accepted_quality`` are what was last accepted: a template
    Meta re-categorised, or whose quality fell below that, stops the batches using it until an
    administrator accepts the change."""

    channel = models.CharField(max_length=20, default="whatsapp")
    owner = models.CharField(max_length=64, help_text=_("The account owning the template (WhatsApp business account)."))
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=20)
    status = models.CharField(max_length=12, default="other")
    category = models.CharField(max_length=20, blank=True)
    quality = models.CharField(max_length=8, default="unknown")
    accepted_category = models.CharField(max_length=20, blank=True)
    accepted_quality = models.CharField(max_length=8, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    provider_id = models.CharField(max_length=64, blank=True)
    content = models.JSONField(default=dict, blank=True, help_text=_("Header format, body text, parameters, examples."))
    synced_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "language"]
        constraints = [models.UniqueConstraint(fields=["channel", "owner", "name", "language"],
                                               name="uniq_message_template")]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class StaleMedia(models.Model):
    """A provider failed a send because of an uploaded card image (WhatsApp's asynchronous 131053): every
    worker drops its cached upload of that card version, so the next send uploads it again."""

    channel = models.CharField(max_length=20)
    card_code = models.CharField(max_length=40)
    card_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.channel} {self.card_code} v{self.card_version}"
