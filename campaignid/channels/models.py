"""Provider credentials per organisation, optionally overridden per programme."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaignid.lib.crypto import EncryptedJSONField

CHANNELS = [("whatsapp", "WhatsApp"), ("sms", "SMS"), ("google_wallet", "Google Wallet")]


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
