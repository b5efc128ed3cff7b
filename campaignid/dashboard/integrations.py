"""Settings > Integrations: WhatsApp, SMS, Google Wallet and DHIS2 forms, "Test" buttons that show what the
provider answered, write-only secrets, paused accounts with "Resume", open alerts. Administrators only.

The channel forms go through the integrations API's own functions (``campaignid.channels.api``): one
write path for the API and the dashboard."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from campaignid.channels import api as channels_api
from campaignid.channels import config as channel_config
from campaignid.channels import probes, registry
from campaignid.channels.models import ChannelConfig
from campaignid.distribution import api as distribution_api
from campaignid.distribution.models import Alert
from campaignid.lib.errors import DomainError

from . import dhis2_panel, integration_forms, webhooks
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


def _own(scope, kind: str) -> dict:
    row = ChannelConfig.objects.filter(organisation=scope.organisation, channel=kind, program=None).first()
    return (row.settings or {}) if row else {}


def _inherited(kind: str) -> dict:
    """What applies to an empty field: sandbox defaults and the environment, without the organisation's row."""
    module = registry.module_for(kind)
    merged = dict(module.sandbox_defaults(settings.SANDBOX_URL)) if settings.CAMPAIGNID_SANDBOX and hasattr(
        module, "sandbox_defaults") else {}
    merged.update(channel_config.env_layer(module))
    return {k: v for k, v in merged.items() if k in module.SETTINGS_FIELDS}


def _panel(scope, kind: str, probe=None, typed: dict | None = None, errors: dict | None = None) -> dict:
    """The organisation's own values (or what was just typed) in the inputs; what applies otherwise
    (environment, sandbox, built-in default) beside them, so saving never copies an inherited value."""
    module = registry.module_for(kind)
    info = channels_api.describe(scope, kind)
    settings_fields = integration_forms.fields_for(kind, _own(scope, kind), _inherited(kind), LABELS, typed, errors)
    secrets = [{"name": n, "label": LABELS.get(n, n), "set": info["secrets_set"].get(n, False),
                "long": n in LONG_SECRETS} for n in module.SECRET_FIELDS]
    return {"kind": kind, "title": TITLES.get(kind, kind), "info": info, "settings": settings_fields,
            "secrets": secrets, "probe": probe, "errors": errors or {}, "webhook": webhooks.url_for(kind, info)}


def _page(request: HttpRequest, scope, probe_kind: str = "", probe=None, dhis2_result=None, status: int = 200,
          typed: dict | None = None, errors: dict | None = None):
    panels = [_panel(scope, kind, probe, typed, errors) if kind == probe_kind else _panel(scope, kind)
              for kind in registry.available()]
    alerts = Alert.objects.filter(organisation=scope.organisation, resolved_at__isnull=True)[:50]
    return render(request, "dashboard/integrations.html", {
        "page": "integrations", "panels": panels, "alerts": alerts, "sandbox": settings.CAMPAIGNID_SANDBOX,
        "public_url": settings.CAMPAIGNID_PUBLIC_URL, "dhis2": dhis2_panel.context(scope, dhis2_result)},
        status=status)


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


def _form(request: HttpRequest, scope, kind: str):
    """(settings, secrets, parsed) of a submitted channel form, every value checked."""
    module = registry.module_for(kind)
    parsed = integration_forms.parse(kind, request.POST, _own(scope, kind), _inherited(kind))
    secrets = {n: request.POST.get(n, "").strip() for n in module.SECRET_FIELDS if request.POST.get(n, "").strip()}
    try:
        stored = channel_config.resolve(kind, scope.organisation.pk)
    except channel_config.NotConfigured:
        stored = {}
    mapping = {**stored, **{k: v for k, v in parsed.settings.items() if v}, **secrets}
    integration_forms.check(kind, mapping, parsed)
    return parsed, secrets


def _refused(request: HttpRequest, scope, kind: str, parsed, testing: bool = False) -> HttpResponse:
    messages.error(request, _("Not tested: correct the fields marked in red.") if testing else
                   _("Nothing was saved: correct the fields marked in red."))
    return _page(request, scope, kind, typed=dict(request.POST.items()), errors=parsed.errors, status=422)


@manager_view("integrations")
@require_POST
def save_channel(request: HttpRequest, scope, kind: str) -> HttpResponse:
    parsed, secrets = _form(request, scope, _kind(kind))
    if parsed.errors:
        return _refused(request, scope, kind, parsed)
    payload = channels_api.IntegrationIn(enabled=request.POST.get("enabled") == "1", settings=parsed.settings,
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
    """Test what is in the form, without saving it; the page keeps the typed values."""
    parsed, secrets = _form(request, scope, _kind(kind))
    if parsed.errors:
        return _refused(request, scope, kind, parsed, testing=True)
    overrides = {**{k: v for k, v in parsed.settings.items() if v}, **secrets}
    result = probes.probe(kind, scope.organisation.pk, overrides=overrides)
    return _page(request, scope, kind, result, typed=dict(request.POST.items()))


@manager_view("integrations")
@require_POST
def resume_channel(request: HttpRequest, scope, kind: str) -> HttpResponse:
    try:
        distribution_api.resume_integration(_as_api(request, scope), _kind(kind))
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
