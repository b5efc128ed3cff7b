"""Audit of the actions reached through a URL: sends, distributions, card revocations and reissues,
exports, settings changes and token revocations, from the API and the dashboard alike.

The route (its URL name) says what the action is; the outcome is the response status (``refused`` for
4xx/5xx, recorded too: a refused attempt is worth auditing). Targets are the route's identifiers.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse

from .audit import record_scope

# url name -> (action, methods)
ROUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "api:send_card": ("send", ("POST",)),
    "dashboard:beneficiary_send": ("send", ("POST",)),
    "api:create_distribution": ("distribution.start", ("POST",)),
    "dashboard:bulk_start": ("distribution.start", ("POST",)),
    "api:control_distribution": ("distribution.control", ("POST",)),
    "dashboard:batch_control": ("distribution.control", ("POST",)),
    "api:bulk": ("send", ("POST",)),
    "api:revoke": ("card.revoke", ("POST",)),
    "cards:revoke": ("card.revoke", ("POST",)),
    "api:reissue": ("card.reissue", ("POST",)),
    "api:reissue_for_beneficiary": ("card.reissue", ("POST",)),
    "cards:reissue": ("card.reissue", ("POST",)),
    "api:export_deliveries": ("export", ("GET",)),
    "dashboard:unreached_csv": ("export", ("GET",)),  # names (and full numbers when asked: filter phones=full)
    "dashboard:unreached_pdf": ("export", ("GET",)),
    "api:put_integration": ("settings.change", ("PUT",)),
    "api:resume_integration": ("settings.change", ("POST",)),
    "api:save_config": ("settings.change", ("POST",)),
    "api:set_schedule": ("settings.change", ("POST",)),
    "dashboard:integration_save": ("settings.change", ("POST",)),
    "dashboard:integration_resume": ("settings.change", ("POST",)),
    "dashboard:dhis2_action": ("settings.change", ("POST",)),
    "dashboard:rate_cards": ("settings.change", ("POST",)),
    "dashboard:rate_card": ("settings.change", ("POST",)),
    "dashboard:rate_card_delete": ("settings.change", ("POST",)),
    "dashboard:wa_template_accept": ("settings.change", ("POST",)),
    "dashboard:beneficiary_household": ("household.change", ("POST",)),
    "dashboard:revoke_token": ("token.revoke", ("POST",)),
    "api:revoke_token": ("token.revoke", ("DELETE",)),  # DELETE /api/v1/tokens/{token_id}
}
FILTER_KEYS = ("channel", "status", "date_from", "date_to", "programme", "batch", "org_unit", "phones")


def _scope(request: HttpRequest):
    auth = getattr(request, "auth", None)
    if auth is not None and hasattr(auth, "organisation"):
        return auth
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    from campaignid.dashboard.context import current_scope

    return current_scope(request)


def _target(kwargs: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(kwargs.items()))[:200]


def _ids_of(response: HttpResponse) -> dict:
    """The delivery or batch a small JSON answer names (``send-card``, ``distributions``)."""
    if response.streaming or not response.get("Content-Type", "").startswith("application/json") \
            or len(response.content) > 8192:
        return {}
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    ids = {"delivery_id": body.get("delivery_id")}
    if str(body.get("id", "")).startswith("batch_"):
        ids["batch_id"] = body["id"]
    return {k: v for k, v in ids.items() if v}


class AuditMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = ROUTES.get(match.view_name) if match is not None else None
        if route is None or request.method not in route[1] or response.status_code in (401, 405):
            return response
        scope = _scope(request)
        if scope is None:
            return response
        details = {"status": response.status_code, "method": request.method}
        if route[0] == "export":
            details["filters"] = {k: request.GET[k] for k in FILTER_KEYS if request.GET.get(k)}
        if "kind" in match.kwargs:
            details["kind"] = match.kwargs["kind"]
        details.update(_ids_of(response))
        record_scope(route[0], scope, request, target=_target(match.kwargs),
                     outcome="ok" if response.status_code < 400 else "refused", details=details)
        return response
