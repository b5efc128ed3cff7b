"""Dashboard > Distribution > Logs: filters, masked numbers and enrollment IDs only (never names), one
delivery's event history, and the CSV export of the filtered set (the API's streaming export)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from campaignid.distribution import logs
from campaignid.distribution.models import Delivery, Status

from .common import PAGE_SIZE, member_view, query_string
from .labels import category_label

FILTERS = ("channel", "status", "date_from", "date_to", "programme", "beneficiary", "batch")
CHANNELS = [("whatsapp", "WhatsApp"), ("sms", "SMS"), ("google_wallet", "Google Wallet"), ("print", _("Print"))]


def form_values(data) -> dict[str, str]:
    """The filters as typed (kept in the form, the pager and the export link)."""
    values = {name: (data.get(name) or "").strip()[:64] for name in FILTERS}
    if values["channel"] not in ("", *[c for c, _ in CHANNELS]):
        values["channel"] = ""
    if values["status"] not in ("", *Status.values):
        values["status"] = ""
    return values


def query_filters(values: dict[str, str]) -> dict[str, str]:
    """What the logs query (and the export) receive: a date-only "to" includes that whole day."""
    out = dict(values)
    if len(out["date_to"]) == 10:
        out["date_to"] += "T23:59:59.999999+00:00"
    return out


@member_view("logs")
def logs_page(request: HttpRequest, scope) -> HttpResponse:
    values = form_values(request.GET)
    filters = query_filters(values)
    context = {"page": "logs", "f": values, "channels": CHANNELS, "statuses": Status.choices,
               "programmes": scope.programs().order_by("name"),
               "export_url": reverse("api:export_deliveries") + "?" + query_string(filters),
               "filter_query": query_string(values)}
    context["export_excel_url"] = context["export_url"] + "&excel=true"
    try:
        matching = logs.filtered(scope, filters)
        rows, next_cursor = logs.page(matching, request.GET.get("cursor"), PAGE_SIZE)
    except logs.FilterError as exc:
        context["problem"] = _("These filters are not valid: %(reason)s") % {"reason": exc}
        return render(request, "dashboard/logs.html", context, status=422)
    context.update(rows=rows, next_cursor=next_cursor, first_page=not request.GET.get("cursor"),
                   total=matching.order_by().count())
    return render(request, "dashboard/logs.html", context)


@member_view("logs")
def delivery_page(request: HttpRequest, scope, pk: int) -> HttpResponse:
    d = (scope.filter_programs(Delivery.objects.select_related("program", "beneficiary", "card", "batch"))
         .filter(pk=pk).first())
    if d is None:
        raise Http404(_("No such delivery."))
    events = d.history()  # the order we recorded them: "created" first, always
    return render(request, "dashboard/delivery.html", {
        "page": "logs", "d": d, "events": events,
        "category_text": category_label(d.error_category) if d.error_category else "",
        "fallback": Delivery.objects.filter(fallback_of=d).first()})
