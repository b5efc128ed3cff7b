"""Settings > Rate cards (what a WhatsApp message costs, per country and category, from a date on) and the
cost sections of the batch and distribution pages. Everyone who manages settings sees the cards;
organisation administrators edit them."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaignid.distribution import rate_cards
from campaignid.distribution.cost_models import RateCard
from campaignid.programs.models import Membership

from .common import forbidden, manager_view


def _card(scope, pk: int | None) -> RateCard | None:
    if pk is None:
        return None
    card = RateCard.objects.filter(pk=pk, organisation=scope.organisation).first()
    if card is None:
        raise Http404
    return card


def _form_data(card: RateCard | None) -> dict:
    if card is None:
        return {"name": "", "currency": "XOF", "valid_from": "", "source": "", "rates": ""}
    return {"name": card.name, "currency": card.currency, "valid_from": card.valid_from.isoformat(),
            "source": card.source, "rates": rate_cards.as_text(card)}


def _page(request, scope, card=None, data=None, errors=(), status=200) -> HttpResponse:
    cards = RateCard.objects.filter(organisation=scope.organisation).prefetch_related("rates")
    return render(request, "dashboard/rate_cards.html", {
        "page": "wa_templates", "cards": cards, "editing": card, "form": data or _form_data(card),
        "errors": list(errors), "can_edit": scope.role == Membership.ADMIN,
        "categories": rate_cards.CATEGORIES}, status=status)


@manager_view("rate_cards")
def rate_cards_page(request: HttpRequest, scope, pk: int | None = None) -> HttpResponse:
    card = _card(scope, pk)
    if request.method != "POST":
        data = rate_cards.example() if request.GET.get("example") and card is None else None
        return _page(request, scope, card, data)
    if scope.role != Membership.ADMIN:
        return forbidden(request, "rate_cards")
    form = rate_cards.parse(request.POST)
    clash = RateCard.objects.filter(organisation=scope.organisation, channel="whatsapp",
                                    valid_from=form.valid_from).exclude(pk=card.pk if card else None)
    if form.valid_from and clash.exists():
        form.errors.append(_("Another card already starts on %(day)s: edit that one.") % {"day": form.valid_from})
    if form.errors:
        return _page(request, scope, card, request.POST, form.errors, status=422)
    saved = rate_cards.save(scope.organisation, form, scope.actor, card)
    messages.success(request, _("Rate card %(name)s saved (%(n)d rates).") % {"name": saved.name, "n": len(form.rates)})
    return redirect("dashboard:rate_cards")


@manager_view("rate_cards")
@require_POST
def delete_card(request: HttpRequest, scope, pk: int) -> HttpResponse:
    if scope.role != Membership.ADMIN:
        return forbidden(request, "rate_cards")
    card = _card(scope, pk)
    card.delete()
    messages.success(request, _("Rate card %(name)s deleted.") % {"name": card.name})
    return redirect("dashboard:rate_cards")
