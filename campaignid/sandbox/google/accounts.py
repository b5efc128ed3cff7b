"""Service accounts (key files, public keys, issuer ACL) and the OAuth 2.0 jwt-bearer token endpoint."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..core import SandboxContext
from .errors import TOKEN_FAULTS, oauth_error, take_fault
from .state import GOOGLE_TOKEN_URL, TOKEN_LIFETIME, TOKEN_PATH, AccessToken, ServiceAccount, get_state, public_base

KEY_FILE = "google-service-account.json"
DEFAULT_PROJECT = "campaignid-sandbox"
DEFAULT_EMAIL = f"wallet-issuer@{DEFAULT_PROJECT}.iam.gserviceaccount.com"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE_PREFIX = "https://www.googleapis.com/auth/"
MAX_LIFETIME = 3600
CLOCK_SKEW = 300
BAD_SIGNATURE = "Invalid JWT Signature."
BAD_TIMEFRAME = ("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
                 "Check your iat and exp values in the JWT claim.")


class GrantError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description


def new_key_file(email: str, project_id: str, token_uri: str) -> dict[str, Any]:
    """A key file shaped like the JSON the Google Cloud console downloads, with a fresh RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": str(100000000000000000000 + secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{quote(email)}",
        "universe_domain": "googleapis.com",
    }


def load_or_create_key_file(data_dir: Path, token_uri: str) -> dict[str, Any]:
    path = Path(data_dir) / KEY_FILE
    if path.exists():
        return json.loads(path.read_text())
    info = new_key_file(DEFAULT_EMAIL, DEFAULT_PROJECT, token_uri)
    write_key_file(path, info)
    return info


def write_key_file(path: Path, info: dict[str, Any]) -> None:
    path.write_text(json.dumps(info, indent=2))
    path.chmod(0o600)


def project_of(email: str) -> str:
    domain = email.partition("@")[2]
    return domain.split(".", 1)[0] or DEFAULT_PROJECT


def account_from_key_file(info: dict[str, Any]) -> ServiceAccount:
    key = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
    email = info["client_email"]
    return ServiceAccount(email, info.get("project_id") or project_of(email), str(info.get("client_id", "")),
                          {info["private_key_id"]: key.public_key()})


def account_from_public_key(email: str, key_id: str, public_pem: str) -> ServiceAccount:
    key = serialization.load_pem_public_key(public_pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the public key must be an RSA key")
    return ServiceAccount(email, project_of(email), "", {key_id: key})


def add_account(ctx: SandboxContext, account: ServiceAccount, issuers: list[str]) -> ServiceAccount:
    """Register an account (merging keys with a known e-mail) and add it as a console user of ``issuers``."""
    state = get_state(ctx)
    known = state.accounts.get(account.email)
    if known is not None:
        known.keys.update(account.keys)
        account = known
    state.accounts[account.email] = account
    for issuer in issuers:
        state.issuers.setdefault(str(issuer), set()).add(account.email)
    return account


def token_urls(ctx: SandboxContext, request: web.Request) -> set[str]:
    """The audiences accepted for an assertion: Google's token URL and this sandbox's, however it is reached."""
    return {GOOGLE_TOKEN_URL, public_base(ctx) + TOKEN_PATH, f"{request.scheme}://{request.host}{TOKEN_PATH}"}


def verify_assertion(ctx: SandboxContext, assertion: str, audiences: set[str]) -> dict[str, Any]:
    """Check an RS256 jwt-bearer assertion as Google's token endpoint does; return its claims."""
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise GrantError("invalid_grant", "Invalid JWT: malformed assertion.") from exc
    account = get_state(ctx).accounts.get(str(claims.get("iss", "")))
    if account is None:
        raise GrantError("invalid_grant", "Invalid grant: account not found")
    key = account.keys.get(str(header.get("kid", ""))) if header.get("kid") else None
    if key is None or header.get("alg") != "RS256":
        raise GrantError("invalid_grant", BAD_SIGNATURE)
    try:
        jwt.decode(assertion, key, algorithms=["RS256"], options={"verify_aud": False, "verify_exp": False,
                                                                  "verify_iat": False, "verify_nbf": False})
    except jwt.PyJWTError as exc:
        raise GrantError("invalid_grant", BAD_SIGNATURE) from exc
    if claims.get("aud") not in audiences:
        raise GrantError("invalid_grant", f"Invalid JWT: Failed audience check. The right audience is "
                                          f"{GOOGLE_TOKEN_URL}")
    check_timeframe(claims, ctx.clock.now())
    return claims


def check_timeframe(claims: dict[str, Any], now: float) -> None:
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int | float) or not isinstance(exp, int | float):
        raise GrantError("invalid_grant", BAD_TIMEFRAME)
    if exp - iat > MAX_LIFETIME or exp <= iat or iat > now + CLOCK_SKEW or exp < now - CLOCK_SKEW:
        raise GrantError("invalid_grant", BAD_TIMEFRAME)


def parse_scopes(claims: dict[str, Any]) -> frozenset[str]:
    scopes = frozenset(str(claims.get("scope", "")).split())
    if not scopes or any(not s.startswith(SCOPE_PREFIX) for s in scopes):
        raise GrantError("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
    return scopes


def issue_token(ctx: SandboxContext, claims: dict[str, Any], scopes: frozenset[str]) -> dict[str, Any]:
    state = get_state(ctx)
    account = state.accounts[claims["iss"]]
    token = "ya29.c." + secrets.token_urlsafe(48)
    state.tokens[token] = AccessToken(account.email, account.project_id, scopes, ctx.clock.now() + TOKEN_LIFETIME)
    return {"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer"}


def create_token_handler(ctx: SandboxContext):
    async def token(request: web.Request) -> web.StreamResponse:
        fault = await take_fault(ctx, request, "token")
        if fault is not None:
            status, error, description = TOKEN_FAULTS.get(fault.kind, TOKEN_FAULTS["http_500"])
            return oauth_error(status, error, description)
        form = await request.post()
        grant_type = str(form.get("grant_type", ""))
        if grant_type != JWT_BEARER:
            return oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        assertion = str(form.get("assertion", ""))
        if not assertion:
            return oauth_error(400, "invalid_request", "Missing required parameter: assertion")
        try:
            claims = verify_assertion(ctx, assertion, token_urls(ctx, request))
            scopes = parse_scopes(claims)
        except GrantError as exc:
            return oauth_error(400, exc.error, exc.description)
        return web.json_response(issue_token(ctx, claims, scopes), headers={"Cache-Control": "no-store"})

    return token
