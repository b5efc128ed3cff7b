""""Add to Google Wallet": the save page ``/gp/v/save/<jwt>``, ``POST /jwt`` and ``POST /jwt/validate``."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web

from ..core import SandboxContext
from .errors import FAULT_ERRORS, ApiError, invalid, take_fault
from .guard import guard
from .resources import finalise, read_body
from .state import SAVE_PATH, ServiceAccount, get_settings, get_state, public_base
from .validation import issuer_of, validate_class, validate_object
from .wallet_view import add_to_inbox, pass_view, render_error, render_saved

SAVE_AUDIENCE = "google"
SAVE_TYPE = "savetowallet"
PAYLOAD_KEYS = {"genericClasses", "genericObjects"}
SKINNY_KEYS = {"id", "classId"}
NO_CHECKS = {"verify_aud": False, "verify_exp": False, "verify_iat": False, "verify_nbf": False}


class SaveError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Plan:
    """What saving a JWT does: the classes and objects it creates, and every object it adds to the wallet."""

    new_classes: list[dict] = field(default_factory=list)
    new_objects: list[dict] = field(default_factory=list)
    classes: list[dict] = field(default_factory=list)
    objects: list[dict] = field(default_factory=list)


def signing_key_for(ctx: SandboxContext, header: dict[str, Any], account: ServiceAccount):
    state = get_state(ctx)
    kid = header.get("kid")
    if kid and kid == state.signing_kid:
        return state.signing_key.public_key()
    if kid:
        return account.keys.get(str(kid))
    return next(iter(account.keys.values()), None) if len(account.keys) == 1 else None


def verify_save_jwt(ctx: SandboxContext, token: str) -> tuple[dict[str, Any], ServiceAccount]:
    """Verify the RS256 signature with the service account's key and the save-JWT claims."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise SaveError(400, "JWT illisible / Malformed JWT.") from exc
    account = get_state(ctx).accounts.get(str(claims.get("iss", "")))
    if account is None:
        raise SaveError(400, f"iss '{claims.get('iss')}' n’est pas un compte de service connu / is not a known "
                             f"service account.")
    key = signing_key_for(ctx, header, account)
    try:
        if key is None or header.get("alg") != "RS256":
            raise jwt.InvalidSignatureError("no matching key")
        jwt.decode(token, key, algorithms=["RS256"], options=NO_CHECKS)
    except jwt.PyJWTError as exc:
        raise SaveError(400, "Signature JWT invalide / Invalid JWT signature.") from exc
    check_save_claims(claims, ctx.clock.now())
    return claims, account


def check_save_claims(claims: dict[str, Any], now: float) -> None:
    if claims.get("aud") != SAVE_AUDIENCE:
        raise SaveError(400, f"aud must be \"{SAVE_AUDIENCE}\", got {claims.get('aud')!r}.")
    if claims.get("typ") != SAVE_TYPE:
        raise SaveError(400, f"typ must be \"{SAVE_TYPE}\", got {claims.get('typ')!r}.")
    if not isinstance(claims.get("iat"), int | float):
        raise SaveError(400, "iat (issued-at, seconds since epoch) is required.")
    if "origins" in claims and not isinstance(claims["origins"], list):
        raise SaveError(400, "origins must be a list of domains.")
    if isinstance(claims.get("exp"), int | float) and claims["exp"] < now:
        raise SaveError(400, "Ce lien a expiré / This save link has expired.")
    if not isinstance(claims.get("payload"), dict):
        raise SaveError(400, "payload is required.")


def allowed(ctx: SandboxContext, email: str, resource_id: Any) -> str:
    issuer = issuer_of(resource_id)
    if not get_state(ctx).allowed(email, issuer):
        raise SaveError(403, f"Permission refusée / Permission denied: {email} is not a user of issuer {issuer}.")
    return issuer


def plan_classes(ctx: SandboxContext, email: str, classes: list[Any], plan: Plan) -> None:
    state = get_state(ctx)
    for body in classes:
        allowed(ctx, email, body.get("id") if isinstance(body, dict) else None)
        known = state.find("class", body["id"])
        if known is None and body["id"] not in {c["id"] for c in plan.new_classes}:
            validate_class(body)
            plan.new_classes.append(copy.deepcopy(body))
        plan.classes.append(known or body)


def plan_objects(ctx: SandboxContext, email: str, objects: list[Any], plan: Plan) -> None:
    state = get_state(ctx)
    pending = {c["id"] for c in plan.new_classes}
    for ref in objects:
        allowed(ctx, email, ref.get("id") if isinstance(ref, dict) else None)
        known = state.find("object", ref["id"])
        if set(ref) <= SKINNY_KEYS:
            if known is None:
                raise SaveError(404, f"Objet introuvable / Object not found: {ref['id']}.")
            if ref.get("classId") and ref["classId"] != known.get("classId"):
                raise SaveError(400, f"classId {ref['classId']} does not match the object's class "
                                     f"{known.get('classId')}.")
        elif known is None:
            validate_object(ref, lambda cid: cid in pending or state.find("class", cid) is not None)
            known = finalise("object", ref, None)
            plan.new_objects.append(known)
        plan.objects.append(known)


def plan_payload(ctx: SandboxContext, email: str, payload: dict[str, Any]) -> Plan:
    """Resolve references and validate new resources without storing anything."""
    unsupported = set(payload) - PAYLOAD_KEYS
    if unsupported:
        raise SaveError(400, f"Only generic passes are supported here, not {', '.join(sorted(unsupported))}.")
    plan = Plan()
    try:
        plan_classes(ctx, email, list(payload.get("genericClasses") or []), plan)
        plan_objects(ctx, email, list(payload.get("genericObjects") or []), plan)
    except ApiError as exc:
        raise SaveError(exc.code, exc.message) from exc
    if not plan.objects and not plan.classes:
        raise SaveError(400, "The payload holds no generic class or object.")
    return plan


def commit(ctx: SandboxContext, plan: Plan) -> None:
    state = get_state(ctx)
    for body in plan.new_classes:
        state.put("class", finalise("class", body, None))
    for obj in plan.new_objects:
        state.put("object", obj)


def mark_saved(ctx: SandboxContext, plan: Plan, account: str) -> tuple[list[dict[str, Any]], bool]:
    """The user taps "Add": each object gets ``hasUsers`` and lands in the account's wallet (once)."""
    state = get_state(ctx)
    views, already = [], True
    for ref in plan.objects:
        obj = state.find("object", ref["id"])
        obj["hasUsers"] = True
        view = pass_view(ctx, obj)
        views.append(view)
        if (obj["id"], account) not in state.saves:
            state.saves.add((obj["id"], account))
            add_to_inbox(ctx, view, account)
            already = False
    return views, already


def short_save_token(ctx: SandboxContext, email: str, plan: Plan) -> str:
    """A skinny save JWT signed by the emulated platform, as ``POST /jwt`` hands back."""
    state = get_state(ctx)
    claims = {"iss": email, "aud": SAVE_AUDIENCE, "typ": SAVE_TYPE, "iat": int(ctx.clock.now()),
              "payload": {"genericObjects": [{"id": o["id"], "classId": o.get("classId")} for o in plan.objects]}}
    return jwt.encode(claims, state.signing_key, algorithm="RS256", headers={"kid": state.signing_kid})


def check_length(ctx: SandboxContext, token: str) -> None:
    limit = int(get_settings(ctx)["jwt_max_length"])
    if limit and len(token) > limit:
        raise SaveError(400, f"JWT encodé trop long : {len(token)} caractères (limite {limit}). / Encoded JWT too "
                             f"large: {len(token)} characters (limit {limit}). Insert the class and object with "
                             f"the REST API and send a skinny JWT.")


def check_account(ctx: SandboxContext, account: str) -> None:
    settings = get_settings(ctx)
    if settings["demo_mode"] and account not in settings["test_accounts"]:
        raise SaveError(403, "Mode démo : seuls les comptes de test peuvent enregistrer cette carte / Demo mode: "
                             "only test accounts can save this pass.")


def save_handler(ctx: SandboxContext):
    async def save_page(request: web.Request) -> web.StreamResponse:
        fault = await take_fault(ctx, request, "save")
        if fault is not None:
            status = FAULT_ERRORS.get(fault.kind, FAULT_ERRORS["http_500"])[0]
            return render_error(status, f"Une erreur s’est produite / Something went wrong ({status}).")
        token = request.match_info["jwt"]
        account = request.query.get("account") or str(get_settings(ctx)["wallet_account"])
        try:
            check_length(ctx, token)
            check_account(ctx, account)
            claims, sa = verify_save_jwt(ctx, token)
            plan = plan_payload(ctx, sa.email, claims["payload"])
        except SaveError as exc:
            return render_error(exc.status, exc.message)
        commit(ctx, plan)
        views, already = mark_saved(ctx, plan, account)
        return render_saved(views, account, already)

    return save_page


def jwt_handlers(ctx: SandboxContext):
    async def insert(request: web.Request) -> web.Response:
        await guard(ctx, request, "save")
        body = await read_body(request)
        try:
            claims, sa = verify_save_jwt(ctx, str(body.get("jwt", "")))
            plan = plan_payload(ctx, sa.email, claims["payload"])
        except SaveError as exc:
            raise invalid(exc.message) from exc
        commit(ctx, plan)
        state = get_state(ctx)
        uri = public_base(ctx, request) + SAVE_PATH + short_save_token(ctx, sa.email, plan)
        resources = {"genericClasses": [state.find("class", c["id"]) for c in plan.classes],
                     "genericObjects": [state.find("object", o["id"]) for o in plan.objects]}
        return web.json_response({"saveUri": uri, "resources": resources})

    async def validate(request: web.Request) -> web.Response:
        token = await guard(ctx, request, "save")
        body = await read_body(request)
        if ("jwtResource" in body) == ("jsonResource" in body):
            raise invalid("Exactly one of jwtResource or jsonResource must be set.")
        try:
            if "jwtResource" in body:
                claims, sa = verify_save_jwt(ctx, str((body["jwtResource"] or {}).get("jwt", "")))
                plan_payload(ctx, sa.email, claims["payload"])
            else:
                plan_payload(ctx, token.email, json_payload(body["jsonResource"]))
        except SaveError as exc:
            raise invalid(exc.message) from exc
        return web.json_response({})

    return insert, validate


def json_payload(resource: Any) -> dict[str, Any]:
    """``jsonResource.json``: the whole unencoded JWT claims, or just its payload."""
    try:
        data = json.loads((resource or {}).get("json", ""))
    except (ValueError, TypeError, AttributeError) as exc:
        raise SaveError(400, "jsonResource.json must be a JSON string.") from exc
    if not isinstance(data, dict):
        raise SaveError(400, "jsonResource.json must be a JSON object.")
    payload = data.get("payload", data)
    if not isinstance(payload, dict):
        raise SaveError(400, "payload must be an object.")
    return payload
