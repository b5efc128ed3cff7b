"""Domain errors: what services raise when they refuse, whoever called them (API, dashboard, command).

Each carries a stable machine-readable ``code`` (the API's ``error.code``, the dashboard's key for a
translated text), an English ``message`` and optional ``details``. The kind of refusal is the class; how a
caller shows it is the caller's business: ``api/errors.py`` maps each class to an HTTP status in one place,
the dashboard shows the message in the officer's language (``dashboard/common.py``).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


class NotFound(DomainError):
    """The thing asked for does not exist for this caller (or is outside its scope)."""


class Invalid(DomainError):
    """The input is wrong; fix it and ask again."""


class Conflict(DomainError):
    """The request is valid but clashes with the current state (inactive, ambiguous, already running…)."""


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class NotConfigured(DomainError):
    """A provider account or connection this needs is not set up."""


class Paused(DomainError):
    """Sending on this account is paused after a provider refusal, until an administrator resumes it."""


class Unavailable(DomainError):
    """Temporarily impossible (a provider or resource is not ready); retrying later may work."""


class ProviderRefused(DomainError):
    """The provider answered and refused."""


class ProviderThrottled(DomainError):
    """The provider asks to slow down."""


class ProviderTimeout(DomainError):
    """The provider did not answer in time."""
