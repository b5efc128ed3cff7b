"""Bulk distribution: choose channels, message and schedule for a selection, review a summary, confirm;
then follow the batch live (progress, counters per status) and pause, resume or cancel it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from campaignid.distribution import costs as distribution_costs
from campaignid.distribution import engine, eta, households, precheck, service
from campaignid.distribution import messages as templates
from campaignid.distribution.models import CHANNELS as Delivery_CHANNELS
from campaignid.distribution.models import Batch
from campaignid.lib.errors import DomainError

from . import people, printing_pages
from .common import api_error_text, is_htmx, member_view, program_of, query_string

RETRY_CHANNELS = ("whatsapp", "sms", "print")  # where failed cards can be sent again from a batch

CHANNEL_CHOICES = [("whatsapp", "WhatsApp"), ("sms", "SMS"), ("google_wallet", "Google Wallet")]
KINDS = [k for k, _ in CHANNEL_CHOICES]


@dataclass
class Params:
    channel: str = "whatsapp"
    fallback: str = ""
    message: str = ""
    schedule: str = ""
    not_yet_delivered: bool = False
    bundle: bool = True  # one message per shared phone carrying every card it holds
    scheduled_at: datetime | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def channels(self) -> list[str]:
        return [self.channel] + ([self.fallback] if self.fallback else [])

    def as_query(self) -> dict:
        return {"channel": self.channel, "fallback": self.fallback, "message": self.message,
                "schedule": self.schedule, "not_yet_delivered": "1" if self.not_yet_delivered else "",
                "bundle_shown": "1", "bundle": "1" if self.bundle else ""}


def _parse(data, program) -> Params:
    p = Params(channel=data.get("channel") or "whatsapp", fallback=data.get("fallback") or "",
               message=(data.get("message") or "").strip()[:1000], schedule=(data.get("schedule") or "").strip(),
               not_yet_delivered=data.get("not_yet_delivered") == "1",
               # the box is ticked unless the officer unticked it (an unticked box sends nothing)
               bundle=data.get("bundle") == "1" if data.get("bundle_shown") else True)
    if p.channel not in KINDS or (p.fallback and p.fallback not in KINDS):
        p.errors.append(_("Choose a channel among WhatsApp, SMS and Google Wallet."))
    elif p.fallback == p.channel:
        p.errors.append(_("The fallback channel must differ from the first channel."))
    if p.message:
        try:
            templates.validate(p.message)
        except templates.TemplateError as exc:
            p.errors.append(str(exc))
    if p.schedule:
        try:
            local = datetime.fromisoformat(p.schedule)
            p.scheduled_at = timezone.make_aware(local, ZoneInfo(program.timezone)) if timezone.is_naive(local) \
                else local
        except (ValueError, ZoneInfoNotFoundError):
            p.errors.append(_("The schedule must be a date and time."))
        else:
            if p.scheduled_at < timezone.now():
                p.errors.append(_("The schedule is in the past; leave it empty to send now."))
    return p


def _selection(request: HttpRequest, scope, program, data) -> tuple[people.Selection, dict | None, str]:
    selection = people.Selection.from_data(data)
    try:
        return selection, selection.engine_selection(scope, program), ""
    except ValueError as exc:
        count = exc.args[0] if exc.args else 0
        if not count:
            return selection, None, _("Nobody is selected: tick beneficiaries in the list, or select all matching.")
        return selection, None, _("The search matches more than %(n)s beneficiaries: narrow it, or select "
                                  "everyone without a text search.") % {"n": people.MAX_RESOLVED}


def _form_context(program, selection, params: Params, problem: str = "") -> dict:
    return {"page": "distribution", "program": program, "selection": selection, "params": params,
            "selection_query": query_string(selection.as_query()), "choices": CHANNEL_CHOICES,
            "problem": problem, "sms_template": program.template_for("sms") if program else "",
            "whatsapp_template": program.template_for("whatsapp") if program else ""}


@member_view("distribution")
def bulk_new(request: HttpRequest, scope) -> HttpResponse:
    program = program_of(request)
    if program is None:
        return redirect("dashboard:beneficiaries")
    selection, engine_sel, problem = _selection(request, scope, program, request.GET)
    params = _parse(request.GET, program)
    params.errors = []
    context = _form_context(program, selection, params, problem)
    if engine_sel is not None:
        context["count"] = engine.selection_queryset(scope, program, engine_sel, params.channel).count()
    return render(request, "dashboard/bulk.html", context)


@member_view("distribution")
@require_POST
def bulk_review(request: HttpRequest, scope) -> HttpResponse:
    program = program_of(request)
    if program is None:
        return redirect("dashboard:beneficiaries")
    selection, engine_sel, problem = _selection(request, scope, program, request.POST)
    params = _parse(request.POST, program)
    if params.not_yet_delivered and engine_sel is not None:
        engine_sel["not_yet_delivered"] = True
    context = _form_context(program, selection, params, problem)
    if problem or params.errors:
        return render(request, "dashboard/bulk.html", context, status=422)
    check = precheck.check(scope, program, params.channels, engine_sel, params.message, params.scheduled_at,
                           {"bundle_households": params.bundle})
    context.update(check=check, summary=check.summary, households=check.households,
                   review_above=households.REVIEW_ABOVE)
    summary, grouped = check.summary, check.households
    if params.channel == "sms" and grouped is not None and grouped.bundling and summary.sendable:
        context["units_saved"] = round(summary.sms_parts * grouped.saved / summary.sendable)  # parts per message
    return render(request, "dashboard/bulk_review.html", context)


@member_view("distribution")
@require_POST
def bulk_start(request: HttpRequest, scope) -> HttpResponse:
    program = program_of(request)
    if program is None:
        return redirect("dashboard:beneficiaries")
    selection, engine_sel, problem = _selection(request, scope, program, request.POST)
    params = _parse(request.POST, program)
    if problem or params.errors:
        return render(request, "dashboard/bulk.html", _form_context(program, selection, params, problem), status=422)
    if params.not_yet_delivered:
        engine_sel["not_yet_delivered"] = True
    try:
        batch = service.create_distribution(
            scope, programme=program.dhis2_program_uid, channels=params.channels, selection=engine_sel,
            message=params.message or None, scheduled_at=params.scheduled_at,
            options={"bundle_households": params.bundle}, actor=scope.actor)
    except DomainError as exc:
        return render(request, "dashboard/bulk.html",
                      _form_context(program, selection, params, api_error_text(exc)), status=422)
    messages.success(request, _("Distribution %(id)s started.") % {"id": batch.pk})
    return redirect("dashboard:batch", batch.pk)


@member_view("distribution")
def distribution_home(request: HttpRequest, scope) -> HttpResponse:
    batches = list(scope.filter_programs(Batch.objects.select_related("program")).order_by("-created_at")[:30])
    context = {"page": "distribution", "batches": batches, "program": program_of(request)}
    if context["program"] is not None and request.GET.get("costs"):  # a scan of the programme: on demand
        context.update(costs=distribution_costs.program_report(context["program"]),
                       costs_title=_("WhatsApp cost of the programme %(name)s") % {"name": context["program"].name})
    return render(request, "dashboard/distribution.html", context)


def _batch(scope, batch_id: str) -> Batch:
    batch = scope.filter_programs(Batch.objects.select_related("program")).filter(pk=batch_id).first()
    if batch is None:
        raise Http404(_("No such distribution."))
    return batch


ACTIVE = (Batch.State.QUEUED, Batch.State.SCHEDULED, Batch.State.RUNNING, Batch.State.PAUSED)


@member_view("distribution")
def batch_detail(request: HttpRequest, scope, batch_id: str) -> HttpResponse:
    found = _batch(scope, batch_id)
    batch = engine.refresh_counters(found.pk)
    batch.program = found.program
    progress = eta.progress(batch)
    context = {"page": "distribution", "batch": batch, "progress": progress,
               "eta_reasons": (progress.get("eta_reason") or "").split(","),
               "active": batch.state in ACTIVE,
               "counts": [(s, getattr(batch, s)) for s in ("pending", "sent", "delivered", "read", "failed")],
               **printing_pages.batch_context(batch)}
    if is_htmx(request):
        return render(request, "dashboard/_batch_progress.html", context)
    if "whatsapp" in batch.channels:
        context.update(costs=distribution_costs.batch_report(batch),
                       costs_title=_("WhatsApp cost of this distribution"))
    context["retry_channels"] = [(value, label) for value, label in Delivery_CHANNELS if value in RETRY_CHANNELS]
    return render(request, "dashboard/batch.html", context)


@member_view("distribution")
@require_POST
def batch_retry(request: HttpRequest, scope, batch_id: str) -> HttpResponse:
    from campaignid.distribution.retry import retry_failed

    channel = request.POST.get("channel") or None
    try:
        done = retry_failed(scope, _batch(scope, batch_id).pk, channel, actor=scope.actor)
    except DomainError as exc:
        messages.error(request, api_error_text(exc))
    else:
        if done.retried:
            messages.success(request, ngettext("%(n)d failed delivery is sent again.",
                                               "%(n)d failed deliveries are sent again.", done.retried)
                             % {"n": done.retried})
        else:
            messages.info(request, _("Nothing to retry: no failed delivery can be sent again."))
        if done.left_out:
            messages.info(request, ngettext(
                "%(n)d left out: opted out, no phone number or cancelled.",
                "%(n)d left out: opted out, no phone number or cancelled.", done.left_out) % {"n": done.left_out})
    return redirect("dashboard:batch", batch_id)


@member_view("distribution")
@require_POST
def batch_control(request: HttpRequest, scope, batch_id: str, action: str) -> HttpResponse:
    if action not in ("pause", "resume", "cancel"):
        raise Http404
    try:
        service.set_state(scope, _batch(scope, batch_id).pk, action)
    except DomainError as exc:
        messages.error(request, api_error_text(exc))
    else:
        messages.success(request, {"pause": _("Distribution paused."), "resume": _("Distribution resumed."),
                                   "cancel": _("Distribution cancelled.")}[action])
    return redirect("dashboard:batch", batch_id)
