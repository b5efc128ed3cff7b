"""Every documented error of every operation, declared in the OpenAPI document (one place).

Rules that hold for every operation: a token is required (401 ``unauthenticated``; 403 ``forbidden`` when
the caller's role or scope does not allow it), a body or query that fails validation is 422
``validation_error``, a path naming something the caller cannot see is 404. ``ERRORS`` adds what each
operation answers besides, with the codes the caller can branch on.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}}}},
}
TITLES = {400: "Bad request", 401: "Unauthenticated", 403: "Forbidden", 404: "Not found", 409: "Conflict",
          422: "Not valid", 429: "Too many requests", 502: "Provider error", 503: "Unavailable",
          504: "Provider timeout"}
SEND = {404: ["beneficiary_not_found", "programme_not_found"],
        409: ["opted_out", "channel_not_configured", "ambiguous_enrollment", "beneficiary_inactive",
              "request_in_progress"],
        422: ["no_phone_number", "invalid_phone_number", "invalid_number", "no_sms_route", "invalid_message_template",
              "idempotency_key_reused", "invalid_idempotency_key"],
        502: ["<failure category>: the provider refused the message (details.delivery_id)"],
        503: ["channel_paused", "card_code_unavailable"]}
CARD = {404: ["beneficiary_not_found", "card_not_found", "programme_not_found"],
        409: ["ambiguous_enrollment", "beneficiary_inactive", "card_not_current"], 503: ["card_code_unavailable"]}
DHIS2 = {404: ["programme_not_found", "dhis2_programme_not_found"], 409: ["dhis2_not_configured"],
         422: ["invalid_connection", "invalid_mapping"], 502: ["dhis2_error"], 503: ["dhis2_unreachable"]}
ERRORS: dict[tuple[str, str], dict[int, list[str]]] = {
    ("post", "/dhis2/send-card"): SEND,
    ("post", "/api/v1/distributions"): {**SEND, 404: ["programme_not_found"], 409: [
        "channel_not_configured", "request_in_progress", "<template problem>"], 422: [
        "invalid_channels", "invalid_message_template", "idempotency_key_reused", "invalid_idempotency_key",
        "check_blocking"]},
    ("post", "/api/v1/distributions/check"): {404: ["programme_not_found"], 422: ["invalid_channels"]},
    ("post", "/api/v1/distributions/{batch_id}/{action}"): {404: ["batch_not_found"], 409: ["invalid_state",
                                                                                            "<template problem>"]},
    ("post", "/api/v1/distributions/{batch_id}/retry"): {
        404: ["batch_not_found"], 409: ["invalid_state", "channel_not_configured"], 422: ["invalid_channel"],
        503: ["channel_paused"]},
    ("get", "/api/v1/distributions/{batch_id}"): {404: ["batch_not_found"]},
    ("get", "/api/v1/distributions/{batch_id}/costs"): {404: ["batch_not_found"]},
    ("get", "/api/v1/programmes/{uid}/costs"): {404: ["programme_not_found"]},
    ("get", "/api/v1/deliveries"): {422: ["invalid_cursor", "invalid_filter"]},
    ("get", "/api/v1/deliveries/export.csv"): {422: ["invalid_filter"]},
    ("get", "/api/v1/deliveries/summary"): {422: ["invalid_filter"]},
    ("get", "/api/v1/deliveries/{delivery_id}"): {404: ["delivery_not_found"]},
    ("get", "/api/v1/beneficiaries"): {404: ["programme_not_found"]},
    ("get", "/api/v1/beneficiaries/{enrollment_id}"): {404: ["beneficiary_not_found"], 409: ["ambiguous_enrollment"]},
    ("post", "/api/v1/beneficiaries/{enrollment_id}/card"): CARD,
    ("post", "/api/v1/beneficiaries/{enrollment_id}/card/reissue"): CARD,
    ("get", "/api/v1/cards/{card_code}.png"): CARD,
    ("get", "/api/v1/cards/{card_code}"): CARD,
    ("post", "/api/v1/cards/{card_code}/revoke"): CARD,
    ("post", "/api/v1/cards/{card_code}/reissue"): CARD,
    ("post", "/api/v1/verify"): {429: ["rate_limited"]},
    ("put", "/api/v1/integrations/{kind}"): {404: ["programme_not_found"], 422: ["unknown_fields"]},
    ("post", "/api/v1/integrations/{kind}/resume"): {404: ["programme_not_found"]},
    ("get", "/api/v1/integrations/whatsapp/templates"): {409: ["channel_not_configured"]},
    ("post", "/api/v1/integrations/whatsapp/templates/sync"): {409: ["channel_not_configured"],
                                                               502: ["templates_unreadable"]},
    ("get", "/api/v1/sms/balance"): {404: ["programme_not_found"], 409: ["sms_not_configured"],
                                     422: ["invalid_country"], 502: ["provider_error"]},
    ("post", "/dhis2/google-wallet/bulk"): {404: ["programme_not_found"],
                                            422: ["no_enrollments", "too_many_enrollments"]},
    ("get", "/dhis2/google-wallet/{enrollment_id}"): {
        404: ["beneficiary_not_found", "programme_not_found"],
        409: ["beneficiary_inactive", "ambiguous_enrollment"],
        429: ["wallet_rate_limited"], 502: ["wallet_<failure category>"],
        503: ["channel_not_configured", "channel_paused", "wallet_provider_down"], 504: ["wallet_timeout"]},
    ("post", "/api/v1/tokens"): {404: ["programme_not_found"]},
    ("delete", "/api/v1/tokens/{token_id}"): {404: ["token_not_found"]},
    ("post", "/dhis2/test-connection"): DHIS2,
    ("post", "/dhis2/config"): DHIS2,
    ("get", "/dhis2/config"): DHIS2,
    ("get", "/dhis2/programmes"): DHIS2,
    ("get", "/dhis2/programmes/{uid}/attributes"): DHIS2,
    ("post", "/dhis2/assign-codes"): DHIS2,
    ("get", "/dhis2/sync-schedule"): DHIS2,
    ("post", "/dhis2/sync-schedule"): DHIS2,
    ("post", "/dhis2/sync"): DHIS2,
    ("get", "/dhis2/sync-runs"): {404: ["programme_not_found"]},
    ("get", "/dhis2/sync-runs/{run_id}"): {404: ["not_found"]},
}


def _response(status: int, codes: list[str]) -> dict[str, Any]:
    listed = ", ".join(f"`{c}`" for c in codes)
    return {"description": f"{TITLES.get(status, 'Error')}" + (f": {listed}" if codes else ""),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def declare_errors(schema: dict[str, Any]) -> dict[str, Any]:
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            errors: dict[int, list[str]] = {}
            if operation.get("security"):
                errors[401] = ["unauthenticated"]
                errors[403] = ["forbidden"]
            if operation.get("parameters") or operation.get("requestBody"):
                errors[422] = ["validation_error"]
            if operation.get("requestBody"):
                errors[400] = ["bad_request"]  # a body that is not JSON
            if "{" in path:
                errors.setdefault(404, ["not_found"])
            for status, codes in ERRORS.get((method, path), {}).items():
                errors[status] = sorted(set(errors.get(status, [])) - {"not_found"} | set(codes))
            responses = {str(k): v for k, v in operation.get("responses", {}).items()}
            for status, codes in sorted(errors.items()):
                if "content" not in responses.get(str(status), {}):
                    responses[str(status)] = _response(status, codes)
            operation["responses"] = dict(sorted(responses.items()))
    return schema
