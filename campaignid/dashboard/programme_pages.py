"""Settings > Programmes: each programme's logo (organisation administrators, and the administrators of
that programme). The logo is checked and re-encoded by ``programs/logos.py``; post/redirect/get."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaignid.lib.errors import Invalid
from campaignid.programs import authority, logos

from .common import manager_view


def _rows(scope) -> list[dict]:
    return [{"program": p, "logo_url": logos.public_path(p)} for p in scope.programs().order_by("name")]


@manager_view("programmes")
def programmes(request: HttpRequest, scope) -> HttpResponse:
    return render(request, "dashboard/programmes.html", {
        "page": "programmes", "rows": _rows(scope), "max_kb": logos.MAX_BYTES // 1024,
        "max_side": logos.MAX_SIDE, "min_side": logos.MIN_SIDE})


@manager_view("programmes")
@require_POST
def logo(request: HttpRequest, scope, pk: int) -> HttpResponse:
    program = scope.programs().filter(pk=pk).first()
    if program is None:
        messages.error(request, _("This programme is outside your scope."))
        return redirect("dashboard:programmes")
    try:
        authority.require_programme_manager(scope, program)
        if request.POST.get("action") == "remove":
            logos.remove(program)
            messages.success(request, _("Logo of %(name)s removed.") % {"name": program.name})
        else:
            upload = request.FILES.get("logo")
            if upload is None:
                raise Invalid("logo_missing", _("Choose an image file first."))
            if upload.size > logos.MAX_BYTES:
                raise Invalid("logo_too_large", _("The logo is larger than %(kb)d KB: use a smaller image.")
                              % {"kb": logos.MAX_BYTES // 1024})
            logos.store(program, upload.read())
            messages.success(request, _("Logo of %(name)s saved: new cards and passes carry it.")
                             % {"name": program.name})
    except (Invalid, authority.Refused) as exc:
        messages.error(request, exc.message)
    return redirect("dashboard:programmes")
