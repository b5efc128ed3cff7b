"""Unreached lists (home visits): per health post of a programme, who has no delivered or handed-over card,
with the reason; the same list as a PDF for health workers and as CSV (both audited as exports).

Only members whose scope holds the programme reach these pages (anyone else gets 404, as for any object
outside their scope); health workers see their own org units only. Phone numbers are masked on the page;
the PDF and the CSV mask them too unless the user ticks "full phone numbers" (``phones=full``), recorded in
the export's audit event.
"""

from __future__ import annotations

import tempfile
from datetime import date

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaignid.distribution import unreached as service
from campaignid.distribution.unreached_pdf import ListHeader, write_list
from campaignid.lib.errors import Invalid
from campaignid.programs.models import Program

from .common import member_view, query_string
from .labels import category_label

PAGE_SIZE = 100


def _programme(scope, uid: str) -> Program:
    program = scope.programs().filter(dhis2_program_uid=uid).first()
    if program is None:
        raise Http404(_("No such programme."))
    return program


def label(row: service.Row) -> str:
    return service.reason_label(row.reason, row.category, category_label)


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value and translation.get_language() == "fr" else (
        value.isoformat() if value else "")


def period_text(period: service.Period) -> str:
    start, end = _day(period.date_from), _day(period.date_to)
    if start and end:
        return _("from %(start)s to %(end)s") % {"start": start, "end": end}
    if start:
        return _("since %(start)s") % {"start": start}
    if end:
        return _("until %(end)s") % {"end": end}
    return _("all dates")


def _query(request: HttpRequest) -> dict[str, str]:
    return {name: (request.GET.get(name) or "").strip()[:32] for name in ("org_unit", "date_from", "date_to")}


def _post(scope, program: Program, org_unit: str) -> str:
    name = service.post_name(scope, program, org_unit) if org_unit else None
    if name is None:
        raise Http404(_("No such health post in your org units."))
    return name


@member_view("unreached")
def unreached_page(request: HttpRequest, scope, uid: str) -> HttpResponse:
    program = _programme(scope, uid)
    f = _query(request)
    context = {"page": "unreached", "program": program, "f": f, "uid": uid}
    try:
        period = service.Period.parse(f["date_from"], f["date_to"])
    except Invalid as exc:
        context["problem"] = problem_text(exc)
        return render(request, "dashboard/unreached.html", context, status=422)
    context["period_text"] = period_text(period)
    if not f["org_unit"]:
        context["posts"] = service.health_posts(scope, program, period)
        context["period_query"] = query_string({"date_from": f["date_from"], "date_to": f["date_to"]})
        return render(request, "dashboard/unreached.html", context)
    context["post_name"] = _post(scope, program, f["org_unit"])
    paginator = Paginator(service.unreached(scope, program, f["org_unit"], period), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context.update(rows=[(r, label(r)) for r in service.present(page.object_list)], page_obj=page,
                   total=paginator.count, list_query=query_string(f),
                   pdf_url=reverse("dashboard:unreached_pdf", args=[uid]),
                   csv_url=reverse("dashboard:unreached_csv", args=[uid]))
    return render(request, "dashboard/unreached.html", context)


def _download(request: HttpRequest, scope, uid: str):
    """What both downloads need (404 outside the caller's scope; ``Invalid`` for bad dates)."""
    program = _programme(scope, uid)
    f = _query(request)
    period = service.Period.parse(f["date_from"], f["date_to"])  # Invalid: the caller's 422
    name = _post(scope, program, f["org_unit"])
    qs = service.unreached(scope, program, f["org_unit"], period)
    return program, f["org_unit"], name, period, qs, request.GET.get("phones") == "full"


def problem_text(exc: Invalid) -> str:
    if exc.code == "invalid_period":
        return _("The start date is after the end date.")
    return _("Dates must look like 2026-03-31.")


def _refused(request: HttpRequest, uid: str, exc: Invalid) -> HttpResponse:
    return render(request, "dashboard/unreached.html", {"page": "unreached", "uid": uid, "f": _query(request),
                                                        "problem": problem_text(exc)}, status=422)


def _filename(org_unit: str, ext: str) -> str:
    word = "a-visiter" if translation.get_language() == "fr" else "unreached"
    return f"{word}-{org_unit}-{timezone.localdate().isoformat()}.{ext}"


@member_view("unreached")
def unreached_csv(request: HttpRequest, scope, uid: str) -> HttpResponse:
    try:
        _program, org_unit, _name, _period, qs, full = _download(request, scope, uid)
    except Invalid as exc:
        return _refused(request, uid, exc)
    excel = request.GET.get("excel") == "true"
    response = StreamingHttpResponse(service.csv_stream(service.rows(qs), label, full_phone=full, excel=excel),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(org_unit, "csv")}"'
    return response


@member_view("unreached")
def unreached_pdf(request: HttpRequest, scope, uid: str) -> HttpResponse:
    try:
        program, org_unit, name, period, qs, full = _download(request, scope, uid)
    except Invalid as exc:
        return _refused(request, uid, exc)
    header = ListHeader(program.name, name, period_text(period), timezone.localdate(),
                        translation.get_language() or program.language)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the response once sent
    write_list(handle, header, service.rows(qs), label, full_phone=full)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=_filename(org_unit, "pdf"),
                        content_type="application/pdf")
