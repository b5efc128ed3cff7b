"""Reach by org unit: one level of the programme's org unit tree at a time (region → district → health
post, map-free), with a bar chart, a CSV of the same rows, and per health post a link to who was not reached.

Anyone whose scope lacks the programme gets 404; health workers see the part of the tree above their own
org units only (``distribution.reach``). Counts only: no names of people.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaignid.distribution import reach as service
from campaignid.distribution.unreached import Period
from campaignid.lib.errors import Invalid, NotFound
from campaignid.programs.org_units import UNKNOWN

from . import charts
from .common import member_view, query_string
from .labels import category_label
from .unreached_pages import _programme, period_text, problem_text


def unknown_name() -> str:
    return _("Unknown hierarchy")


def no_unit_name() -> str:
    return _("No org unit")


def _query(request: HttpRequest) -> dict[str, str]:
    return {name: (request.GET.get(name) or "").strip()[:32] for name in ("parent", "date_from", "date_to")}


def row_name(row: service.Row) -> str:
    return unknown_name() if row.uid == UNKNOWN else (row.name or no_unit_name())


def _chart(rep: service.Report) -> charts.Chart:
    rows = [(row_name(r), r.counts["delivered"] + r.counts["handed_over"], "ok") for r in rep.rows]

    def describe(items):
        if not items:
            return _("No data in this period.")
        return "; ".join(f"{label}: {value}" for label, value, _tone in items)

    return charts.bar_chart("reach-chart", _("Cards delivered or handed over, by org unit"), rows, describe)


def _report(request: HttpRequest, scope, uid: str):
    program = _programme(scope, uid)
    f = _query(request)
    period = Period.parse(f["date_from"], f["date_to"])  # Invalid: the caller shows it
    try:
        return program, f, service.report(scope, program, period, f["parent"])
    except NotFound as exc:
        raise Http404(_("No such org unit in your org units.")) from exc


def _failures(row: service.Row) -> list[tuple[str, int]]:
    """The row's failure categories in words, the most frequent first."""
    return [(category_label(c), n) for c, n in sorted(row.failures.items(), key=lambda i: -i[1])]


def _refused(request: HttpRequest, uid: str, exc: Invalid) -> HttpResponse:
    """Bad dates: the page again with the reason, and what was typed kept in the form."""
    return render(request, "dashboard/reach.html", {"page": "reach", "uid": uid, "f": _query(request),
                                                    "problem": problem_text(exc)}, status=422)


@member_view("reach")
def reach_page(request: HttpRequest, scope, uid: str) -> HttpResponse:
    try:
        program, f, rep = _report(request, scope, uid)
    except Invalid as exc:
        return _refused(request, uid, exc)
    period_query = query_string({"date_from": f["date_from"], "date_to": f["date_to"]})
    rows = [(r, row_name(r), _failures(r)) for r in rep.rows]
    crumbs = [(c_uid, unknown_name() if c_uid == UNKNOWN else name) for c_uid, name in rep.crumbs]
    context = {"page": "reach", "program": program, "uid": uid, "f": f, "rep": rep, "rows": rows,
               "crumbs": crumbs, "period_text": period_text(rep.period), "period_query": period_query,
               "chart": _chart(rep), "csv_query": query_string(f), "refreshed_at": rep.refreshed_at,
               "total_failures": _failures(rep.total)}
    return render(request, "dashboard/reach.html", context)


@member_view("reach")
def reach_csv(request: HttpRequest, scope, uid: str) -> HttpResponse:
    try:
        _program, _f, rep = _report(request, scope, uid)
    except Invalid as exc:
        return _refused(request, uid, exc)
    excel = request.GET.get("excel") == "true"
    response = StreamingHttpResponse(service.csv_lines(rep, unknown_name(), no_unit_name(), excel=excel),
                                     content_type="text/csv; charset=utf-8")
    word = "couverture" if translation.get_language() == "fr" else "reach"
    name = f"{word}-{uid}-{rep.parent or 'top'}-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
