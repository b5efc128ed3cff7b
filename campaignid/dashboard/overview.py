"""Overview: per channel and period, the delivery funnel (pending → sent → delivered → read / failed) and
failures by category, as SVG charts with a data table."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from campaignid.distribution.models import NOT_SENT_CATEGORIES, Delivery

from . import charts
from .common import member_view, program_of
from .labels import category_label

PERIODS = (7, 30, 90)
CHANNELS = [("whatsapp", "WhatsApp"), ("sms", "SMS"), ("google_wallet", "Google Wallet"), ("print", _("Print"))]
REACHED = {"sent": ("sent", "delivered", "read"), "delivered": ("delivered", "read"), "read": ("read",),
           "failed": ("failed",)}


def funnel_counts(by_status: dict[str, int]) -> dict[str, int]:
    """Deliveries created, how many were not sent (no phone, opted out: ``not_sent`` in ``by_status``), and
    how many of the others reached each stage (a read message was also sent and delivered)."""
    out = {"created": sum(by_status.values()), "not_sent": by_status.get("not_sent", 0)}
    for stage, statuses in REACHED.items():
        out[stage] = sum(by_status.get(s, 0) for s in statuses)
    out["pending"] = by_status.get("pending", 0)
    out["attempted"] = out["created"] - out["not_sent"]
    return out


def _status_key(status: str, category: str) -> str:
    return "not_sent" if status == "failed" and category in NOT_SENT_CATEGORIES else status


def stats(scope, program, days: int, channel: str) -> dict:
    qs = scope.filter_programs(Delivery.objects.all()).filter(created_at__gte=timezone.now() - timedelta(days=days))
    if program is not None:
        qs = qs.filter(program=program)
    per_channel: dict[str, dict[str, int]] = {c: {} for c, _ in CHANNELS}
    rows = qs.values_list("channel", "status", "error_category").annotate(n=Count("id")).order_by()
    for ch, status, category, n in rows:
        counts = per_channel.setdefault(ch, {})
        key = _status_key(status, category)
        counts[key] = counts.get(key, 0) + n
    if channel:
        chosen = per_channel.get(channel, {})
    else:
        chosen = {}
        for statuses in per_channel.values():
            for status, n in statuses.items():
                chosen[status] = chosen.get(status, 0) + n
    failed = qs.filter(status="failed").exclude(error_category__in=NOT_SENT_CATEGORIES)
    if channel:
        failed = failed.filter(channel=channel)
    failures = list(failed.values_list("error_category").annotate(n=Count("id")).order_by("-n")[:12])
    return {"funnel": funnel_counts(chosen), "failures": failures,
            "by_channel": [(c, label, funnel_counts(per_channel.get(c, {}))) for c, label in CHANNELS]}


def _funnel_chart(counts: dict[str, int], scope_label: str) -> charts.Chart:
    rows = [(_("Created (pending)"), counts["created"], "brand"), (_("Sent"), counts["sent"], "info"),
            (_("Delivered"), counts["delivered"], "ok"), (_("Read"), counts["read"], "read"),
            (_("Failed"), counts["failed"], "danger"),
            (_("Not sent (no phone, opted out)"), counts["not_sent"], "muted")]

    def describe(items):
        return "; ".join(f"{label}: {value}" for label, value, _tone in items)

    return charts.bar_chart("funnel-chart", _("Delivery funnel, %(what)s") % {"what": scope_label}, rows, describe)


def _failure_chart(failures: list[tuple[str, int]], scope_label: str) -> charts.Chart:
    rows = [(category_label(category), n, "danger") for category, n in failures]

    def describe(items):
        if not items:
            return _("No failure in this period.")
        return "; ".join(f"{label}: {value}" for label, value, _tone in items)

    return charts.bar_chart("failure-chart", _("Failures by category, %(what)s") % {"what": scope_label}, rows,
                            describe)


@member_view("overview")
def overview(request: HttpRequest, scope) -> HttpResponse:
    program = program_of(request)
    days = int(request.GET.get("days")) if request.GET.get("days") in {str(p) for p in PERIODS} else 30
    channel = request.GET.get("channel") if request.GET.get("channel") in dict(CHANNELS) else ""
    data = stats(scope, program, days, channel)
    label = (dict(CHANNELS).get(channel) or _("all channels")) + ", " + _("%(days)s days") % {"days": days}
    return render(request, "dashboard/home.html", {
        "page": "overview", "days": days, "channel": channel, "periods": PERIODS, "channels": CHANNELS,
        "funnel": data["funnel"], "rates": charts.funnel_rates(data["funnel"]), "by_channel": data["by_channel"],
        "failures": [(c, n, category_label(c)) for c, n in data["failures"]],
        "funnel_chart": _funnel_chart(data["funnel"], label), "failure_chart": _failure_chart(data["failures"], label),
        "beneficiary_count": program.beneficiaries.count() if program else 0,
    })
