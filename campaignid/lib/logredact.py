"""Secrets carried in URLs never reach a log line: a filter for every logger, Django's and gunicorn's.

Redacted: the Orange receipts secret (``/webhooks/orange-sms/<secret>``), the holder key of a card link
(``?k=…``), WhatsApp's handshake token (``hub.verify_token=…``), any query parameter named like a secret,
and API tokens (``cid_…``). ``configure`` is Django's ``LOGGING_CONFIG``: it applies ``LOGGING``, then puts
the filter on the loggers that write request lines (``django.request``, ``django.server``,
``gunicorn.access``, ``gunicorn.error``) and on every handler already installed, so a record is redacted
before any handler formats it.
"""

from __future__ import annotations

import logging
import logging.config
import re

MARK = "[redacted]"
REQUEST_LOGGERS = ("django.request", "django.server", "django.security", "gunicorn.access", "gunicorn.error",
                   "aiohttp.access", "aiohttp.server", "aiohttp.client")
PATTERNS = [
    (re.compile(r"(/webhooks/orange-sms/)[^/\s?#\"']+"), rf"\g<1>{MARK}"),
    (re.compile(r"([?&;](?:k|hub\.verify_token|token|access_token|api_key|key|secret|client_secret|password)=)"
                r"[^&\s#\"']*", re.I), rf"\g<1>{MARK}"),
    (re.compile(r"\bcid_[A-Za-z0-9_\-]{16,}"), f"cid_{MARK}"),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/\-]+=*", re.I), rf"\g<1>{MARK}"),
]


def redact(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites the record's message with secrets redacted (the record is then final: no args)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's problem, not a reason to drop it
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = RedactSecrets()


def install() -> None:
    """Put the filter on the request loggers and on every handler that exists now (gunicorn's included)."""
    loggers = [logging.getLogger()] + [logging.getLogger(name) for name in REQUEST_LOGGERS]
    loggers += [logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    for logger in loggers:
        if logger.name in REQUEST_LOGGERS and _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)


def configure(settings_dict: dict) -> None:
    """Django's ``LOGGING_CONFIG``: ``dictConfig(LOGGING)``, then ``install()``."""
    if settings_dict:
        logging.config.dictConfig(settings_dict)
    install()
