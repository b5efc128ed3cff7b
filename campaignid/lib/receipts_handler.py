"""A WSGI handler for provider callbacks with a short middleware chain (see ``campaignid.wsgi``)."""

from __future__ import annotations

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.utils.module_loading import import_string

RECEIPT_PREFIX = "/webhooks/"


class ReceiptHandler(WSGIHandler):
    """Django's own WSGI handler (request signals, so database connections are reused and health-checked as
    for any request; exceptions become 500 answers), built from ``settings.RECEIPT_MIDDLEWARE``."""

    def load_middleware(self, is_async: bool = False) -> None:
        """As Django's ``BaseHandler.load_middleware`` (synchronous only), over the shorter list."""
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(settings.RECEIPT_MIDDLEWARE):
            middleware = import_string(path)(handler)
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler
