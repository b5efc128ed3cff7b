"""WSGI entry point.

Provider callbacks (``/webhooks/…``: Orange delivery receipts, Meta status and message webhooks) arrive once
per message, a million times in a national campaign. They are machine-to-machine calls that use no session,
user, language, CSRF token, flash message or audit entry, so they go through a handler of their own with only
the middleware that protects every answer (``RECEIPT_MIDDLEWARE``): same URLs, same views, same signature
checks, a fraction of the CPU per callback. Everything else goes through the full stack (``MIDDLEWARE``).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
dashboard = get_wsgi_application()

from campaignid.lib.receipts_handler import RECEIPT_PREFIX, ReceiptHandler  # noqa: E402 - after django.setup

receipts = ReceiptHandler()


def application(environ, start_response):
    if environ.get("PATH_INFO", "").startswith(RECEIPT_PREFIX):
        return receipts(environ, start_response)
    return dashboard(environ, start_response)
