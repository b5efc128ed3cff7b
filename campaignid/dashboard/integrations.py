"""Settings > Integrations: WhatsApp, SMS, Google Wallet and DHIS2 forms, "Test" buttons that show what the
provider answered, write-only secrets, paused accounts with "Resume", open alerts. Administrators only.

The channel forms go through the integrations API's own functions (``campaignid.channels.api``): one
write path for the API and the dashboard."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from campaignid.channels import api as channels_api
from campaignid.channels import probes, registry
from campaignid.channels.models import ChannelConfig
from campaignid.distribution.models import Alert
from campaignid.lib.errors import DomainError

from . import dhis2_panel
from .common import api_error_text, manager_view

TITLES = {"whatsapp": "WhatsApp", "sms": "SMS (Orange)", "google_wallet": "Google Wallet",
          "print": gettext_lazy("Print")}
# Secrets that are pasted as a whole file rather than typed.
LONG_SECRETS = {"service_account_json"}
LABELS = {
    "access_token": gettext_lazy("Access token (Meta)"), "phone_number_id": gettext_lazy("Phone number ID"),
    "waba_id": gettext_lazy("WhatsApp Business account ID"), "app_secret": gettext_lazy("App secret (webhooks)"),
    "verify_token": gettext_lazy("Webhook verify token"), "graph_version": gettext_lazy("Graph API version"),
    "graph_url": gettext_lazy("Graph API URL"), "template_name": gettext_lazy("Message template name"),
    "template_language": gettext_lazy("Template languages"),
    "template_named_parameters": gettext_lazy("Named template parameters"),
    "template_parameters": gettext_lazy("Template parameters"), "rate_per_second": gettext_lazy("Messages per second"),
    "messaging_limit": gettext_lazy("Daily messaging limit"), "client_id": gettext_lazy("Client ID"),
    "client_secret": gettext_lazy("Client secret"), "sender_name": gettext_lazy("Sender name (at most 11 characters)"),
    "default_country": gettext_lazy("Default country (ISO code)"), "api_url": gettext_lazy("API URL"),
    "gsm7_only": gettext_lazy("GSM-7 only (rewrite accents)"),
    "webhook_secret": gettext_lazy("Delivery receipt secret"), "issuer_id": gettext_lazy("Issuer ID"),
    "service_account_json": gettext_lazy("Service account key (JSON)"),
    "class_suffix": gettext_lazy("Pass class suffix"), "token_url": gettext_lazy("OAuth token URL"),
    "save_url": gettext_lazy("Save link URL"), "origins": gettext_lazy("Allowed origins"),
}


def _panel(scope, kind: str, probe=None) -> dict:
    """The organisation's own values in the inputs; what applies otherwise (environment, sandbox, defaults)
    as their placeholder, so saving the form never copies an inherited value into the organisation."""
    module = registry.module_for(kind)
    info = channels_api.describe(scope, kind)
    row = ChannelConfig.objects.filter(organisation=scope.organisation, channel=kind, program=None).first()
    own = (row.settings or {}) if row else {}
    settings_fields = [{"name": n, "label": LABELS.get(n, n), "value": _text(own.get(n)),
                        "inherited": _text(info["settings"].get(n))} for n in module.SETTINGS_FIELDS]
    secrets = [{"name": n, "label": LABELS.get(n, n), "set": info["secrets_set"].get(n, False),
                "long": n in LONG_SECRETS} for n in module.SECRET_FIELDS]
    return {"kind": kind, "title": TITLES.get(kind, kind), "info": info, "settings": settings_fields,
            "secrets": secrets, "probe": probe}


def _text(value) -> str:
    return "" if value is None else str(value)


def _page(request: HttpRequest, scope, probe_kind: str = "", probe=None, dhis2_result=None, status: int = 200):
    panels = [_panel(scope, kind, probe if kind == probe_kind else None) for kind in registry.available()]
    alerts = Alert.objects.filter(organisation=scope.organisation, resolved_at__isnull=True)[:50]
    return render(request, "dashboard/integrations.html", {
        "page": "integrations", "panels": panels, "alerts": alerts,
        "dhis2": dhis2_panel.context(scope, dhis2_result)}, status=status)


@manager_view("integrations")
def integrations(request: HttpRequest, scope) -> HttpResponse:
    return _page(request, scope)


def _kind(kind: str) -> str:
    if kind not in registry.available():
        raise Http404
    return kind


def _as_api(request: HttpRequest, scope) -> HttpRequest:
    request.auth = scope  # the integrations API reads the caller's scope from here
    return request


@manager_view("integrations")
@require_POST
def save_channel(request: HttpRequest, scope, kind: str) -> HttpResponse:
    module = registry.module_for(_kind(kind))
    values = {n: request.POST.get(n, "").strip() for n in module.SETTINGS_FIELDS if n in request.POST}
    secrets = {n: request.POST.get(n, "").strip() for n in module.SECRET_FIELDS if request.POST.get(n, "").strip()}
    payload = channels_api.IntegrationIn(enabled=request.POST.get("enabled") == "1", settings=values,
                                         secrets=secrets)
    try:
        info = channels_api.put_integration(_as_api(request, scope), kind, payload)
    except DomainError as exc:
        messages.error(request, api_error_text(exc))
        return redirect("dashboard:integrations")
    if info["ready"]:
        messages.success(request, _("%(channel)s settings saved.") % {"channel": TITLES[kind]})
    else:
        messages.warning(request, _("%(channel)s settings saved, but the channel is not ready: %(problem)s") % {
            "channel": TITLES[kind], "problem": info["problem"]})
    return redirect(reverse("dashboard:integrations") + f"#{kind}")


@manager_view("integrations")
@require_POST
def test_channel(request: HttpRequest, scope, kind: str) -> HttpResponse:
    result = probes.probe(_kind(kind), scope.organisation.pk)
    return _page(request, scope, kind, result)


@manager_view("integrations")
@require_POST
def resume_channel(request: HttpRequest, scope, kind: str) -> HttpResponse:
    try:
        channels_api.resume_integration(_as_api(request, scope), _kind(kind))
    except DomainError as exc:
        messages.error(request, api_error_text(exc))
        return redirect("dashboard:integrations")
    messages.success(request, _("%(channel)s sending resumed.") % {"channel": TITLES[kind]})
    return redirect("dashboard:integrations")


@manager_view("integrations")
@require_POST
def dhis2_action(request: HttpRequest, scope, action: str) -> HttpResponse:
    if action not in dhis2_panel.ACTIONS:
        raise Http404
    outcome = dhis2_panel.act(scope, action, request.POST)
    if outcome.message:
        getattr(messages, outcome.level)(request, outcome.message)
    if outcome.result is not None:
        return _page(request, scope, dhis2_result=outcome.result)
    return redirect("dashboard:integrations")
