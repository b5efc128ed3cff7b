"""One error shape for every 4xx/5xx: {"error": {"code": "...", "message": "...", "details": ...}}."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.http import Http404, HttpRequest, JsonResponse
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from campaignid.lib import errors as domain

log = logging.getLogger("campaignid.api")


class ApiError(Exception):
    """Raised by services and routers to answer with a specific status and machine-readable code."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


# The only place where a domain refusal becomes an HTTP status.
STATUS: dict[type[domain.DomainError], int] = {
    domain.NotFound: 404,
    domain.Invalid: 422,
    domain.Conflict: 409,
    domain.Forbidden: 403,
    domain.NotConfigured: 409,
    domain.Paused: 503,
    domain.Unavailable: 503,
    domain.ProviderRefused: 502,
    domain.ProviderThrottled: 429,
    domain.ProviderTimeout: 504,
}


def status_of(exc: domain.DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_answer(exc: Exception) -> tuple[int, dict] | None:
    """(status, body) of a refusal in the documented shape, or None for an unexpected exception."""
    if isinstance(exc, ApiError):
        return exc.status, {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
    if isinstance(exc, domain.DomainError):
        return status_of(exc), {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
    return None


def error_response(status: int, code: str, message: str, details: Any = None) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "details": details}}, status=status)


def _default_code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def install(api) -> None:
    @api.exception_handler(ApiError)
    def _api_error(request: HttpRequest, exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @api.exception_handler(domain.DomainError)
    def _domain_error(request: HttpRequest, exc: domain.DomainError):
        return error_response(status_of(exc), exc.code, exc.message, exc.details)

    @api.exception_handler(ValidationError)
    def _validation(request: HttpRequest, exc: ValidationError):
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ())[1:]) or None, "message": e.get("msg"),
             "type": e.get("type")}
            for e in exc.errors
        ]
        return error_response(422, "validation_error", "The request is not valid.", details)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc):
        return error_response(401, "unauthenticated", "Send a valid API token as 'Authorization: Bearer <token>'.")

    @api.exception_handler(AuthorizationError)
    def _forbidden(request: HttpRequest, exc):
        return error_response(403, "forbidden", str(exc) or "You may not do this.")

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc):
        return error_response(404, "not_found", str(exc) or "Not found.")

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError):
        return error_response(exc.status_code, _default_code(exc.status_code), str(exc))

    @api.exception_handler(Exception)
    def _unexpected(request: HttpRequest, exc: Exception):
        log.exception("unhandled API error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "An unexpected error occurred; it has been logged.")
