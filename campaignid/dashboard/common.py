"""What every dashboard view needs: the caller's scope and programme, the 403 page, safe redirects."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .context import current_program, current_scope

PAGE_SIZE = 50


def forbidden(request: HttpRequest, page: str) -> HttpResponse:
    return render(request, "dashboard/forbidden.html", {"page": page}, status=403)


def member_view(page: str):
    """Login required, and a scope (membership of an organisation); the view gets ``scope`` first."""

    def wrap(view):
        @login_required
        @wraps(view)
        def inner(request: HttpRequest, *args, **kwargs):
            scope = current_scope(request)
            if scope is None:
                return render(request, "dashboard/no_organisation.html", status=403)
            return view(request, scope, *args, **kwargs)

        inner.page = page
        return inner

    return wrap


def manager_view(page: str):
    """Like ``member_view``, but only administrators of the organisation or of a programme."""

    def wrap(view):
        @member_view(page)
        @wraps(view)
        def inner(request: HttpRequest, scope, *args, **kwargs):
            if not scope.can_manage_settings:
                return forbidden(request, page)
            return view(request, scope, *args, **kwargs)

        return inner

    return wrap


def program_of(request: HttpRequest):
    return current_program(request)


def back(request: HttpRequest, fallback: str, *args) -> HttpResponse:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(fallback, *args)


def query_string(values: dict) -> str:
    """``a=1&b=2`` of the non-empty values (lists repeat their key)."""
    pairs = []
    for key, value in values.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item not in (None, "", False):
                pairs.append((key, item))
    return urlencode(pairs)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def api_error_text(exc) -> str:
    """A service error in the officer's language when we know the code, else the service's own message."""
    known = {
        "no_phone_number": _("This beneficiary has no phone number: enter one."),
        "invalid_phone_number": _("This phone number is not valid."),
        "no_sms_route": _("SMS cannot reach this number: its country is outside the SMS coverage. Nothing was "
                          "sent."),
        "opted_out": _("This beneficiary opted out of messages; nothing was sent."),
        "channel_paused": _("Sending on this channel is paused after a provider error; an administrator must "
                            "resume it in Settings > Integrations."),
        "channel_not_configured": _("This channel is not configured; an administrator can set it up in "
                                    "Settings > Integrations."),
        "beneficiary_inactive": _("This enrollment was deleted or cancelled in DHIS2."),
        "outside_org_units": _("This card belongs to a beneficiary outside your org units: it was not recorded. "
                               "Hand it back to the health post it was printed for."),
        "card_not_found": _("No card of yours matches this code."),
        "invalid_state": _("The distribution is not in a state that allows this."),
        "custom_message_not_sent": _("WhatsApp would send the approved template instead of your message (this "
                                     "person has not written to you in the last 24 hours and the template has "
                                     "no free-text parameter): nothing was sent. Send the programme's message, "
                                     "or use SMS."),
    }
    text = known.get(getattr(exc, "code", ""))
    return f"{text} ({exc.message})" if text and exc.code in ("channel_not_configured", "channel_paused") \
        else text or getattr(exc, "message", str(exc))


def keep_once(request: HttpRequest, key: str, value) -> None:
    """Hand a POST's result to the page it redirects to (post/redirect/get: reloading never resends)."""
    request.session[f"once:{key}"] = value


def take_once(request: HttpRequest, key: str):
    """The value kept by ``keep_once``, shown once (None after)."""
    return request.session.pop(f"once:{key}", None)
