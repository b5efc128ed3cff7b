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
