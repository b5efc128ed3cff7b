"""Settings > Integrations over the API: provider settings per organisation (or programme), secrets
write-only, a "Test" call, and resuming an account paused after a provider error."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from campaignid.lib.errors import Invalid, NotConfigured, NotFound, ProviderRefused
from campaignid.programs import authority

from . import config, registry
from .models import ChannelConfig

router = Router(tags=["integrations"])
Kind = Literal["whatsapp", "sms", "google_wallet"]


class IntegrationIn(Schema):
    programme: str | None = None
    enabled: bool = True
    settings: dict[str, Any] = {}
    secrets: dict[str, str] = {}


def settings_manager(request):
    scope = request.auth
    authority.require_manager(scope)
    return scope


def program_of(scope, uid: str | None):
    if not uid:
        return None
    program = scope.programs().filter(dhis2_program_uid=uid).first()
    if program is None:
        raise NotFound("programme_not_found", f"No programme {uid!r} for this organisation.")
    return program


def describe(scope, kind: str, program=None) -> dict:
    module = registry.module_for(kind)
    row = ChannelConfig.objects.filter(organisation=scope.organisation, channel=kind, program=program).first()
    try:
        mapping = config.resolve(kind, scope.organisation.pk, program.pk if program else None)
        module.CHANNEL.config_from(mapping)
        ready, problem = True, ""
    except (KeyError, ValueError, config.NotConfigured) as exc:
        mapping, ready, problem = {}, False, str(exc)
    secrets = getattr(module, "SECRET_FIELDS", ())
    return {
        "channel": kind, "programme": program.dhis2_program_uid if program else None,
        "enabled": row.enabled if row else True, "ready": ready, "problem": problem or None,
        "settings": {k: mapping.get(k) for k in getattr(module, "SETTINGS_FIELDS", ()) if k in mapping},
        "secrets_set": {k: bool(mapping.get(k)) for k in secrets},
        "paused_until": row.paused_until if row and row.paused_until and row.paused_until > timezone.now() else None,
        "paused_reason": row.paused_reason if row and row.paused_until else None,
    }


@router.get("/integrations", response=list[dict], summary="Channels and their configuration (no secrets)")
def list_integrations(request: HttpRequest):
    return [describe(request.auth, kind) for kind in registry.available()]


@router.put("/integrations/{kind}", response=dict, summary="Configure a channel (secrets are write-only)")
def put_integration(request: HttpRequest, kind: Kind, payload: IntegrationIn):
    scope = settings_manager(request)
    module = registry.module_for(kind)
    program = program_of(scope, payload.programme)
    allowed_settings, allowed_secrets = set(module.SETTINGS_FIELDS), set(module.SECRET_FIELDS)
    unknown = (set(payload.settings) - allowed_settings) | (set(payload.secrets) - allowed_secrets)
    if unknown:
        raise Invalid("unknown_fields", f"Unknown fields for {kind}: {', '.join(sorted(unknown))}.",
                       {"settings": sorted(allowed_settings), "secrets": sorted(allowed_secrets)})
    endpoints = getattr(module, "ENDPOINT_FIELDS", ())
    row = ChannelConfig.objects.filter(organisation=scope.organisation, program=program, channel=kind).first()
    old_settings = (row.settings or {}) if row else {}
    changed = {k: v for k, v in payload.settings.items() if v != old_settings.get(k)}
    deployment = config.deployment_layer(kind)
    own = bool((row.secrets if row else None) or any(payload.secrets.values()))
    authority.check_channel_change(scope, program, endpoints, changed, [deployment.get(f, "") for f in endpoints],
                                   own_credentials=own)
    row = row or ChannelConfig(organisation=scope.organisation, program=program, channel=kind)
    new_settings = {**old_settings, **payload.settings}
    row.secrets = authority.secrets_after(old_settings, new_settings, endpoints, row.secrets or {}, payload.secrets)
    row.enabled, row.settings = payload.enabled, new_settings
    row.save()
    return describe(scope, kind, program)


def _template_out(row) -> dict:
    from .templates_store import problem

    return {"name": row.name, "language": row.language, "status": row.status, "category": row.category,
            "quality": row.quality, "accepted_category": row.accepted_category or None,
            "accepted_quality": row.accepted_quality or None, "problem": problem(row) or None,
            "reason": row.reason or None, "content": row.content, "synced_at": row.synced_at,
            "changed_at": row.changed_at}


def _owner(scope) -> str:
    try:
        return config.build("whatsapp", scope.organisation.pk).template_owner
    except config.NotConfigured as exc:
        raise NotConfigured("channel_not_configured", str(exc)) from exc


@router.get("/integrations/whatsapp/templates", response=list[dict],
            summary="WhatsApp templates: status, quality and category as Meta last reported them")
def list_templates(request: HttpRequest):
    from .models import MessageTemplate

    owner = _owner(settings_manager(request))
    return [_template_out(r) for r in MessageTemplate.objects.filter(channel="whatsapp", owner=owner)]


@router.post("/integrations/whatsapp/templates/sync", response=dict, summary="Read the templates from Meta now")
def sync_templates(request: HttpRequest):
    from .templates_store import after_sync, sync_organisation

    result = sync_organisation("whatsapp", settings_manager(request).organisation.pk)
    if result.error:
        raise ProviderRefused("templates_unreadable", result.error)
    return {"owner": result.owner, "seen": result.seen, "changed": result.changed, "paused": after_sync()}
