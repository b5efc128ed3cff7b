"""Audit events (who did what, when, from where; never a name or a phone number) and shared counters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One security-relevant action. ``target`` and ``details`` hold identifiers only (enrollment IDs,
    card codes, batch IDs, token hints, setting names), never personal data or secrets."""

    OK, REFUSED = "ok", "refused"
    OUTCOMES = [(OK, _("done")), (REFUSED, _("refused"))]

    organisation = models.ForeignKey("programs.Organisation", null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="audit_events")
    at = models.DateTimeField(default=now, db_index=True)
    action = models.CharField(max_length=40)
    outcome = models.CharField(max_length=10, choices=OUTCOMES, default=OK)
    actor = models.CharField(max_length=160, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    client_ip = models.CharField(max_length=64, blank=True)
    target = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organisation", "-at"], name="audit_org_at"),
                   models.Index(fields=["action", "-at"], name="audit_action_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.outcome} {self.actor}"


class Counter(models.Model):
    """A fixed-window counter shared by every process (rate limits, failed logins) when the queue is not
    Redis. ``expires_at`` is a Unix time; an expired row restarts at 1 on its next hit."""

    key = models.CharField(max_length=200, primary_key=True)
    count = models.BigIntegerField(default=0)
    expires_at = models.FloatField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}={self.count}"
