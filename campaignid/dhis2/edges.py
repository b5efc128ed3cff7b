"""Shared by the /dhis2 routers: who may change settings, and DHIS2 problems as API errors."""

from __future__ import annotations

from contextlib import contextmanager

from django.http import HttpRequest

from campaignid.api.errors import ApiError

from . import connections, mapping, metadata, service, versions
from .client import AuthFailed, Dhis2Error, Forbidden, ServerError, Unreachable


def is_uid(value: str) -> bool:
    return len(value) == 11 and value[:1].isalpha() and value.isalnum() and value.isascii()


def manager(request: HttpRequest):
    scope = request.auth
    if not scope.can_manage_settings:
        raise ApiError(403, "forbidden", "Only organisation or programme administrators manage the DHIS2 link.")
    return scope


@contextmanager
def upstream():
    """DHIS2 and configuration problems → API errors with stable codes."""
    try:
        yield
    except connections.NotConfigured as exc:
        raise ApiError(409, "dhis2_not_configured", str(exc)) from exc
    except connections.InvalidConnection as exc:
        raise ApiError(422, "invalid_connection", str(exc)) from exc
    except service.ProgrammeUnknown as exc:
        raise ApiError(404, "programme_not_found", str(exc)) from exc
    except metadata.ProgrammeNotFound as exc:
        raise ApiError(404, "dhis2_programme_not_found", exc.message) from exc
    except mapping.MappingError as exc:
        raise ApiError(422, "invalid_mapping", str(exc), exc.problems) from exc
    except versions.UnsupportedVersion as exc:
        raise ApiError(422, exc.code, str(exc)) from exc
    except (AuthFailed, Forbidden) as exc:
        raise ApiError(502, exc.code, exc.message) from exc
    except (Unreachable, ServerError) as exc:
        raise ApiError(503, exc.code, exc.message) from exc
    except Dhis2Error as exc:
        raise ApiError(502, exc.code, exc.message) from exc
