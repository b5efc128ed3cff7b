"""Security headers on every response: a strict Content-Security-Policy and ``no-store`` on personal data.

The CSP allows scripts, styles, fonts and images from our own origin only (plus ``data:`` images, used by
the Swagger UI): no inline script or style can run, so an injected ``<script>`` does nothing. The Django
admin keeps inline *styles* (its templates use them); it still runs no inline script.

Pages for a signed-in user, API answers to a token or a session, and exports carry personal data: unless
the view chose its own caching, they are ``Cache-Control: no-store`` (never kept by a browser or a proxy).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
ADMIN_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
PUBLIC_PREFIXES = ("/static/", "/.well-known/")


def _personal(request: HttpRequest) -> bool:
    if request.path.startswith(PUBLIC_PREFIXES):
        return False
    user = getattr(request, "user", None)
    return bool((user is not None and user.is_authenticated) or request.META.get("HTTP_AUTHORIZATION"))


class SecurityHeadersMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            admin = request.path.startswith("/admin/")
            response["Content-Security-Policy"] = ADMIN_CSP if admin else CSP
        if "Cache-Control" not in response and _personal(request):
            add_never_cache_headers(response)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        return response
