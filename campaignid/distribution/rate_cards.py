"""Editing rate cards: the text form administrators type (one rate per line), checked line by line.

A line is ``COUNTRY CATEGORY PRICE`` separated by spaces, commas or semicolons, e.g. ``SN utility 0.0125``
or ``*;marketing;0,0500`` (``*``: every country the card does not name; a decimal comma is accepted).
Errors name the line and nothing is saved until every line is right. The example card (``data/``) is a
starting point with round illustrative figures, not any provider's current prices.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .cost_models import Rate, RateCard

EXAMPLE = Path(__file__).parent / "data" / "rate_card_example.json"
CATEGORIES = ("marketing", "utility", "authentication", "authentication_international", "service")
CURRENCY = re.compile(r"^[A-Z]{3}$")
SEPARATORS = re.compile(r"[\s;,\t]+")
MAX_LINES = 1000


@dataclass
class CardForm:
    name: str
    currency: str
    valid_from: date | None
    source: str
    rates: list[tuple[str, str, Decimal]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _price(text: str) -> Decimal | None:
    try:
        value = Decimal(text if "." in text else text.replace(",", "."))
        ok = value.is_finite() and value >= 0 and value == value.quantize(Decimal("0.000001"))
    except InvalidOperation:
        return None
    return value if ok else None


def _line(number: int, raw: str) -> tuple[tuple[str, str, Decimal] | None, str]:
    # "0,05" must survive the comma separator: split on the first two separators only.
    parts = SEPARATORS.split(raw.strip(), maxsplit=2)
    if len(parts) != 3:
        return None, _("Line %(n)d: expected a country, a category and a price.") % {"n": number}
    country, category, price_text = parts[0].upper(), parts[1].lower(), parts[2].strip()
    if country != "*" and not (len(country) == 2 and country.isalpha()):
        return None, _("Line %(n)d: %(c)s is not a two-letter country code (or *).") % {"n": number, "c": country}
    if category not in CATEGORIES:
        return None, _("Line %(n)d: the category must be one of %(list)s.") % {"n": number,
                                                                                "list": ", ".join(CATEGORIES)}
    price = _price(price_text)
    if price is None:
        return None, _("Line %(n)d: %(p)s is not a price (a positive number, at most 6 decimals).") % {
            "n": number, "p": price_text}
    return (country, category, price), ""


def _rates(text: str, form: CardForm) -> None:
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        form.errors.append(_("Enter at least one rate."))
    if len(lines) > MAX_LINES:
        form.errors.append(_("At most %(n)d rates per card.") % {"n": MAX_LINES})
    seen = set()
    for number, raw in enumerate(lines[:MAX_LINES], 1):
        rate, error = _line(number, raw)
        if error:
            form.errors.append(error)
        elif rate[:2] in seen:
            form.errors.append(_("Line %(n)d: %(c)s %(k)s is priced twice.") % {"n": number, "c": rate[0],
                                                                                "k": rate[1]})
        else:
            seen.add(rate[:2])
            form.rates.append(rate)


def parse(data) -> CardForm:
    """The submitted form (a mapping of strings) checked; ``errors`` lists every problem."""
    form = CardForm(name=str(data.get("name", "")).strip()[:120], valid_from=None,
                    currency=str(data.get("currency", "")).strip().upper(),
                    source=str(data.get("source", "")).strip()[:300])
    if not form.name:
        form.errors.append(_("Give the card a name."))
    if not CURRENCY.match(form.currency):
        form.errors.append(_("The currency must be a three-letter code such as XOF, USD or EUR."))
    try:
        form.valid_from = date.fromisoformat(str(data.get("valid_from", "")).strip())
    except ValueError:
        form.errors.append(_("Give the date from which these prices apply (YYYY-MM-DD)."))
    _rates(str(data.get("rates", "")), form)
    return form


def save(organisation, form: CardForm, actor: str, card: RateCard | None = None) -> RateCard:
    """Create or replace a card from a checked form (all rates replaced at once)."""
    with transaction.atomic():
        card = card or RateCard(organisation=organisation, channel="whatsapp")
        card.name, card.currency, card.valid_from, card.source = form.name, form.currency, form.valid_from, form.source
        card.updated_by, card.updated_at = actor[:150], timezone.now()
        card.save()
        card.rates.all().delete()
        Rate.objects.bulk_create([Rate(card=card, country=c, category=k, price=p) for c, k, p in form.rates])
    return card


def as_text(card: RateCard) -> str:
    return "\n".join(f"{r.country} {r.category} {r.price.normalize():f}" for r in card.rates.all())


def example() -> dict:
    """The example card as form data (dated today): illustrative figures to replace."""
    data = json.loads(EXAMPLE.read_text())
    rates = "\n".join(f"{r['country']} {r['category']} {r['price']}" for r in data["rates"])
    return {"name": _("Example card (illustrative figures: replace with your contract's prices)"),
            "currency": data["currency"], "valid_from": timezone.now().date().isoformat(),
            "source": _("Example shipped with CampaignID; not a provider's price list."), "rates": rates}
