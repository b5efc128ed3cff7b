"""French first: dashboard pages are in French until the user picks another language (the language
cookie set by the switch). The browser's Accept-Language is honoured only on the public pages a
beneficiary opens (verification links), where the reader's own language is the better guess."""

from __future__ import annotations

from django.conf import settings

BROWSER_LANGUAGE_PATHS = ("/c/", "/api/", "/.well-known/")


class FrenchFirstMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and not request.path.startswith(
                BROWSER_LANGUAGE_PATHS):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


# What a health worker reaches: the hand-over page, the people of their org units not reached yet (home
# visits), the reach of their org units (counts), their password, and what anyone reaches.
HEALTH_WORKER_VIEWS = {"dashboard:handover", "dashboard:password", "dashboard:login", "dashboard:logout",
                       "dashboard:switch_organisation", "set_language", "health",
                       "dashboard:unreached", "dashboard:unreached_pdf", "dashboard:unreached_csv",
                       "dashboard:reach", "dashboard:reach_csv"}
OPEN_NAMESPACES = {"verification", "api"}  # public pages; the API refuses health workers itself (401)


class HealthWorkerMiddleware:
    """Health workers see the hand-over page, their unreached lists and nothing else of the dashboard (deny by
    default: a new page is closed to them until it is listed here)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or not request.user.is_authenticated or match.namespace in OPEN_NAMESPACES \
                or match.view_name in HEALTH_WORKER_VIEWS:
            return None
        from django.shortcuts import redirect

        from .common import forbidden
        from .context import current_scope

        scope = current_scope(request)
        if scope is None or not scope.is_health_worker:
            return None
        if match.view_name == "dashboard:home":
            return redirect("dashboard:handover")
        return forbidden(request, "handover")
