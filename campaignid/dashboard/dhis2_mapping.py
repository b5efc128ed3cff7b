"""Settings > DHIS2 programmes: the Tracker programmes DHIS2 reports (add one as a CampaignID programme),
and per programme the attributes that fill phone, names, date of birth, sex, org unit and household ID,
with a preview of the first rows as they would be imported. Preview is a GET (nothing is saved); saving
posts the previewed choices and redirects (post/redirect/get).

Who: organisation administrators add programmes; they and the programme's administrators map it
(``programs/authority.py``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from campaignid.dhis2 import connections, mapping, onboarding, service
from campaignid.dhis2.client import Dhis2Error
from campaignid.lib.errors import DomainError
from campaignid.lib.mask import mask_phone
from campaignid.programs import authority

from .common import manager_view

LABELS = {
    "phone": gettext_lazy("Phone number"), "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"), "date_of_birth": gettext_lazy("Date of birth"),
    "sex": gettext_lazy("Sex"), "org_unit": gettext_lazy("Org unit"),
    "household": gettext_lazy("Household or caregiver ID"),
}
HELP = {
    "org_unit": gettext_lazy("Empty: the enrollment's org unit (usual). Choose an attribute only if it holds an "
                             "org unit UID."),
    "household": gettext_lazy("Optional: one message carries the cards of a household, and a child recorded "
                              "without a phone gets its card on its household's phone."),
}
PROBLEMS = {
    "unknown_attribute": gettext_lazy("This attribute is not one of the programme's in DHIS2 (it may have been "
                                      "removed): choose another."),
    "attribute_used_twice": gettext_lazy("This attribute is already chosen for another field."),
    "unknown_field": gettext_lazy("Unknown field."),
}
REFUSALS = {
    "programme_exists": gettext_lazy("This DHIS2 programme is already a CampaignID programme."),
    "invalid_code_prefix": gettext_lazy("The card code prefix is 1 to 3 groups of 2 to 6 upper-case letters or "
                                        "digits, separated by dashes (e.g. DKR-TB)."),
    "code_prefix_taken": gettext_lazy("Another programme already uses this card code prefix."),
    "dhis2_programme_not_found": gettext_lazy("DHIS2 reports no Tracker programme with this UID."),
}
DHIS2_PROBLEMS = {
    "dhis2_auth_failed": gettext_lazy("DHIS2 refused the credentials: check them in Integrations."),
    "dhis2_forbidden": gettext_lazy("DHIS2 refused access: the account needs to read metadata and tracked "
                                    "entities of this programme."),
    "dhis2_unreachable": gettext_lazy("DHIS2 cannot be reached right now: check the URL in Integrations, or "
                                      "try again later."),
    "dhis2_server_error": gettext_lazy("DHIS2 answered with a server error: try again later."),
    "programme_not_found": gettext_lazy("DHIS2 has no such programme visible to this account."),
}


def _dhis2_text(exc) -> str:
    if isinstance(exc, connections.NotConfigured):
        return _("Save a DHIS2 connection first (Settings > Integrations).")
    known = DHIS2_PROBLEMS.get(getattr(exc, "code", ""))
    return str(known) if known else _("DHIS2 answered with an error: %(detail)s") % {
        "detail": getattr(exc, "message", str(exc))}


def _chosen(source) -> list[dict]:
    return [{"card_field": f, "dhis2_attribute_uid": source.get(f"f_{f}", "").strip()}
            for f in mapping.FIELDS if source.get(f"f_{f}", "").strip()]


def _fields(details: dict, chosen: dict | None, problems: dict) -> list[dict]:
    current = chosen if chosen is not None else {f: v["uid"] for f, v in
                                                 (details["mapping"] or details["suggested_mapping"]).items()}
    return [{"name": f, "label": LABELS[f], "help": HELP.get(f, ""), "value": current.get(f, ""),
             "required": f in mapping.REQUIRED, "problem": problems.get(f, "")} for f in mapping.FIELDS]


def _preview_rows(result: onboarding.Preview) -> list[dict]:
    return [{**row, "phone_shown": mask_phone(row["phone"]) if row["phone"] else "",
             "household": (row["attributes"] or {}).get("household", "")} for row in result.rows]


def _programme_panel(request: HttpRequest, scope, uid: str) -> dict:
    program = scope.programs().filter(dhis2_program_uid=uid).first()
    if program is None:
        return {}
    details = service.programme_attributes(scope, uid)
    out = {"program": program, "details": details, "problems": []}
    chosen, problems = None, {}
    if request.GET.get("preview"):
        items = _chosen(request.GET)
        chosen = {i["card_field"]: i["dhis2_attribute_uid"] for i in items}
        try:
            result = onboarding.preview(scope, uid, items)
            out.update(preview=result, preview_rows=_preview_rows(result), chosen=items,
                       missing=[LABELS[f] for f in result.missing_required])
        except mapping.MappingError as exc:
            problems = {p.get("field", ""): PROBLEMS.get(p.get("code"), p["message"]) for p in exc.problems}
    out["fields"] = _fields(details, chosen, problems)
    out["may_map"] = _may(authority.require_programme_manager, scope, program)
    return out


def _may(check, *args) -> bool:
    try:
        check(*args)
    except authority.Refused:
        return False
    return True


@manager_view("dhis2_mapping")
def mapping_page(request: HttpRequest, scope) -> HttpResponse:
    uid = request.GET.get("programme", "")
    context = {"page": "dhis2_mapping", "uid": uid, "may_add": authority.is_org_admin(scope),
               "labels": LABELS}
    try:
        context["remote"] = service.list_programmes(scope)
        if uid:
            context.update(_programme_panel(request, scope, uid))
    except (Dhis2Error, connections.NotConfigured) as exc:
        context["dhis2_error"] = _dhis2_text(exc)
    return render(request, "dashboard/dhis2_mapping.html", context)


def _back(uid: str = "") -> HttpResponse:
    return redirect(reverse("dashboard:dhis2_mapping") + (f"?programme={uid}" if uid else ""))


@manager_view("dhis2_mapping")
@require_POST
def add_programme(request: HttpRequest, scope) -> HttpResponse:
    uid = request.POST.get("uid", "")
    try:
        authority.require_org_admin(scope)
        program = onboarding.add_programme(scope, uid, request.POST.get("code_prefix", ""),
                                           request.POST.get("name", ""))
    except authority.Refused as exc:
        messages.error(request, exc.message)
        return _back()
    except DomainError as exc:
        messages.error(request, str(REFUSALS.get(exc.code, exc.message)))
        return _back()
    except (Dhis2Error, connections.NotConfigured) as exc:
        messages.error(request, _dhis2_text(exc))
        return _back()
    messages.success(request, _("%(name)s added: check its mapping below, then sync it.") % {"name": program.name})
    return _back(uid)


@manager_view("dhis2_mapping")
@require_POST
def save_mapping(request: HttpRequest, scope) -> HttpResponse:
    uid = request.POST.get("uid", "")
    program = scope.programs().filter(dhis2_program_uid=uid).first()
    try:
        if program is None:
            raise service.ProgrammeUnknown(uid)
        authority.require_programme_manager(scope, program)
        saved = service.assign_codes(scope, uid, _chosen(request.POST))
    except authority.Refused as exc:
        messages.error(request, exc.message)
    except service.ProgrammeUnknown:
        messages.error(request, _("This programme is outside your scope."))
    except mapping.MappingError as exc:
        messages.error(request, "; ".join(str(PROBLEMS.get(p.get("code"), p["message"])) for p in exc.problems))
    except (Dhis2Error, connections.NotConfigured) as exc:
        messages.error(request, _dhis2_text(exc))
    else:
        messages.success(request, _("Mapping of %(name)s saved (%(count)s fields): the next sync uses it.") % {
            "name": program.name, "count": saved["mappings_configured"]})
    return _back(uid)
