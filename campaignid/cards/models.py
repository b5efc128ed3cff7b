"""Cards: one valid card per beneficiary per programme; every change is a CardEvent."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Card(models.Model):
    VALID = "valid"
    REVOKED = "revoked"
    STATUSES = [(VALID, _("valid")), (REVOKED, _("revoked"))]

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="cards")
    beneficiary = models.ForeignKey("programs.Beneficiary", on_delete=models.CASCADE, related_name="cards")
    code = models.CharField(_("card code"), max_length=40, unique=True)
    holder_key = models.CharField(max_length=32, help_text=_("Secret carried in the holder's link (?k=…)."))
    status = models.CharField(max_length=10, choices=STATUSES, default=VALID)
    display_name = models.CharField(max_length=200, help_text=_("Name as printed on the card."))
    token = models.TextField(blank=True, help_text=_("Signed QR token (context prefix + Base45)."))
    key_id = models.CharField(max_length=32, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1, help_text=_("Bumped on every change; keys the PNG cache."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "beneficiary"], condition=models.Q(status="valid"), name="one_valid_card"
            ),
        ]
        indexes = [models.Index(fields=["beneficiary", "status"], name="card_benef_status")]

    def __str__(self) -> str:
        return self.code


class CardEvent(models.Model):
    """Append-only history of a card (issued, reissued, revoked, rendered, wallet…)."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30)
    at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=150, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        # the reach report counts online verifications (kind "verified") per day
        indexes = [models.Index(fields=["kind", "at"], name="cardevent_kind_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"
