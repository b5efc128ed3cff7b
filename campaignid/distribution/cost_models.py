"""Rate cards: what one message costs, per country and pricing category, from a date on.

Data, not code: organisation administrators enter the prices of their provider contract (or Meta's
published rate card) in the dashboard. A card applies from ``valid_from`` until the next card of the same
channel; ``country`` ``*`` prices every country the card does not name.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RateCard(models.Model):
    organisation = models.ForeignKey("programs.Organisation", on_delete=models.CASCADE, related_name="rate_cards")
    channel = models.CharField(max_length=20, default="whatsapp")
    name = models.CharField(_("name"), max_length=120)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    valid_from = models.DateField(_("valid from"))
    source = models.CharField(_("source of the prices"), max_length=300, blank=True)
    updated_by = models.CharField(max_length=150, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-valid_from"]
        constraints = [models.UniqueConstraint(fields=["organisation", "channel", "valid_from"],
                                               name="uniq_rate_card_date")]

    def __str__(self) -> str:
        return f"{self.name} ({self.valid_from})"


class Rate(models.Model):
    card = models.ForeignKey(RateCard, on_delete=models.CASCADE, related_name="rates")
    country = models.CharField(max_length=2, help_text=_("ISO alpha-2, or * for every other country."))
    category = models.CharField(max_length=20)
    price = models.DecimalField(max_digits=12, decimal_places=6)

    class Meta:
        ordering = ["country", "category"]
        constraints = [models.UniqueConstraint(fields=["card", "country", "category"], name="uniq_rate")]

    def __str__(self) -> str:
        return f"{self.country} {self.category} {self.price}"
