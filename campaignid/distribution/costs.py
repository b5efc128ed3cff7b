"""What sending cost: the billed category the provider reports per delivery, priced by dated rate cards.

``apply_billing`` records, on the delivery row, the category and whether it is charged (WhatsApp
per-message pricing: ``utility`` templates inside a customer service window and messages inside a free
entry point window are free). ``report`` groups a set of deliveries by country, category and day and
prices each group with the organisation's rate card in force that day (``cost_models``); what no card
prices is counted as unpriced, never guessed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from campaignid.lib.phone import region_of

from .cost_models import RateCard

ANY_COUNTRY = "*"


def country_of(phone: str) -> str:
    """ISO country of an E.164 number: from its calling code when that code belongs to one country (most
    of Africa), else by parsing the number (+1, +7, +44… are shared)."""
    digits = phone.lstrip("+")
    for size in (1, 2, 3):
        regions = COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:size])) if digits[:size].isdigit() else None
        if regions:
            return regions[0] if len(regions) == 1 and regions[0] != "001" else _parsed_country(phone)
    return ""


@lru_cache(maxsize=65_536)
def _parsed_country(phone: str) -> str:
    region = region_of(phone) or ""
    return region if len(region) == 2 and region.isalpha() else ""


def apply_billing(delivery, billing) -> list[str]:
    """Record the provider's ``events.Billing`` on ``delivery`` (in memory); the fields that changed."""
    if billing is None or (delivery.billing_category, delivery.billable) == (billing.category, billing.billable):
        return []
    delivery.billing_category, delivery.billable = billing.category, billing.billable
    changed = ["billing_category", "billable"]
    if not delivery.billing_country and delivery.recipient:
        delivery.billing_country = country_of(delivery.recipient)
        changed.append("billing_country")
    return changed


@dataclass
class CostLine:
    country: str
    category: str
    messages: int = 0
    currency: str = ""
    unit_price: Decimal | None = None
    amount: Decimal = Decimal(0)


@dataclass
class CostReport:
    lines: list[CostLine] = field(default_factory=list)
    totals: dict[str, Decimal] = field(default_factory=dict)  # by currency
    free: dict[str, int] = field(default_factory=dict)  # free messages by category
    unpriced: int = 0  # charged messages no rate card prices
    unknown: int = 0  # sent messages whose billing the provider has not reported (yet)
    cards: list[RateCard] = field(default_factory=list)

    @property
    def charged(self) -> int:
        return sum(line.messages for line in self.lines) + self.unpriced


class Pricer:
    """The organisation's cards for a channel, oldest first; ``price`` picks the card in force on a day."""

    def __init__(self, organisation_id: int, channel: str = "whatsapp") -> None:
        self.cards = list(RateCard.objects.filter(organisation_id=organisation_id, channel=channel)
                          .prefetch_related("rates").order_by("valid_from"))
        self.rates = {card.pk: {(r.country, r.category): r.price for r in card.rates.all()} for card in self.cards}

    def card_on(self, day: date) -> RateCard | None:
        found = None
        for card in self.cards:
            if card.valid_from <= day:
                found = card
        return found

    def price(self, day: date, country: str, category: str) -> tuple[RateCard | None, Decimal | None]:
        card = self.card_on(day)
        if card is None:
            return None, None
        rates = self.rates[card.pk]
        return card, rates.get((country, category), rates.get((ANY_COUNTRY, category)))


def report(organisation_id: int, deliveries, channel: str = "whatsapp") -> CostReport:
    """Cost of ``deliveries`` (a Delivery queryset of one organisation) on ``channel``."""
    qs = deliveries.filter(channel=channel).exclude(sent_at__isnull=True)
    out = CostReport(unknown=qs.filter(billable__isnull=True).count())
    pricer = Pricer(organisation_id, channel)
    out.cards = pricer.cards
    groups = (qs.filter(billable__isnull=False).values("billing_country", "billing_category", "billable")
              .annotate(day=TruncDate("sent_at"), n=Count("id")).order_by())
    lines: dict[tuple[str, str, str], CostLine] = {}
    free: dict[str, int] = defaultdict(int)
    for g in groups:
        if not g["billable"]:
            free[g["billing_category"]] += g["n"]
            continue
        country, category = g["billing_country"] or "??", g["billing_category"]
        card, price = pricer.price(g["day"] or timezone.now().date(), country, category)
        if price is None:
            out.unpriced += g["n"]
            continue
        line = lines.setdefault((country, category, card.currency), CostLine(country, category,
                                                                            currency=card.currency))
        line.unit_price = price if line.messages == 0 or line.unit_price == price else None
        line.messages += g["n"]
        line.amount += price * g["n"]
    out.lines = sorted(lines.values(), key=lambda x: (x.country, x.category))
    for line in out.lines:
        out.totals[line.currency] = out.totals.get(line.currency, Decimal(0)) + line.amount
    out.free = dict(free)
    return out


def batch_report(batch) -> CostReport:
    return report(batch.organisation_id, batch.deliveries.all())


def program_report(program) -> CostReport:
    return report(program.organisation_id, program.deliveries.all())


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def as_dict(report: CostReport) -> dict:
    """The API shape: amounts as strings (exact decimals), free / unpriced / not yet reported counts."""
    return {
        "lines": [{"country": x.country, "category": x.category, "messages": x.messages, "currency": x.currency,
                   "unit_price": None if x.unit_price is None else _text(x.unit_price), "amount": _text(x.amount)}
                  for x in report.lines],
        "totals": {currency: _text(total) for currency, total in report.totals.items()},
        "free": report.free, "unpriced": report.unpriced, "not_reported": report.unknown,
        "rate_cards": [{"name": c.name, "currency": c.currency, "valid_from": c.valid_from.isoformat()}
                       for c in report.cards],
    }
