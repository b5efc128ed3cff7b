"""How a provider identifies one person on one of our accounts, beside the phone number we hold.

WhatsApp gives each user a business-scoped user ID (BSUID) and, once usernames are generally available,
may withhold the phone number from webhooks: the BSUID learned from earlier callbacks keeps them matched.
It is personal data exactly like a phone number: never logged, exported or shown unmasked.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Contact(models.Model):
    organisation = models.ForeignKey("programs.Organisation", on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="contacts")
    account = models.CharField(max_length=100, help_text=_("Pacing key of the account (e.g. whatsapp:<number ID>)."))
    phone = models.CharField(max_length=20, blank=True, help_text=_("E.164; never logged or exported."))
    user_id = models.CharField(max_length=140, blank=True, help_text=_("Provider-scoped user ID; never logged."))
    parent_user_id = models.CharField(max_length=140, blank=True)
    previous_user_ids = models.JSONField(default=list, blank=True)
    moved_to = models.CharField(max_length=20, blank=True, help_text=_("New number the provider announced."))
    window_until = models.DateTimeField(null=True, blank=True, help_text=_("Free-form messages allowed until."))
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    not_on_whatsapp_at = models.DateTimeField(null=True, blank=True, help_text=_(
        "When the provider answered that this number has no WhatsApp account (while the account was well)."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "phone"], condition=~Q(phone=""), name="uniq_contact_phone"),
        ]
        indexes = [models.Index(fields=["account", "user_id"], name="contact_account_user")]

    def __str__(self) -> str:
        return f"contact {self.pk} on {self.account}"
