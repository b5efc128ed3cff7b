"""`manage.py check`: warn when the public URL printed in links and on cards is not where the service listens."""

from __future__ import annotations

from urllib.parse import urlparse

from django.conf import settings
from django.core import checks

LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}  # noqa: S104 - names compared, nothing is bound


def public_url_problem(public_url: str, host: str, port: int) -> str:
    """Why links built on ``public_url`` would not reach a service listening on ``host:port`` ("" if fine).
    Only a loopback public URL can be compared: behind a proxy any public port is legitimate."""
    parsed = urlparse(public_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return f"CAMPAIGNID_PUBLIC_URL {public_url!r} is not an http(s) URL."
    if parsed.hostname not in LOOPBACK:
        return ""
    public_port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if public_port != port:
        return (f"CAMPAIGNID_PUBLIC_URL {public_url} points at port {public_port}, but the service listens on "
                f"{host}:{port}: links in SMS and WhatsApp messages and the verification line on cards would not open.")
    return ""


@checks.register(checks.Tags.compatibility)
def public_url_matches_listening_address(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    problem = public_url_problem(settings.CAMPAIGNID_PUBLIC_URL, settings.CAMPAIGNID_HOST, settings.CAMPAIGNID_PORT)
    if not problem:
        return []
    return [checks.Warning(problem, hint="Unset CAMPAIGNID_PUBLIC_URL to use the listening address, or set it to "
                           "the address phones reach the service at.", id="campaignid.W300")]
