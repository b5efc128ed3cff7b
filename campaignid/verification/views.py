"""Public side: ``/c/<code>`` (card status; the holder's own view with ``?k=``), its image, and the JWK set.

Without the holder's key the page shows only what is printed on the card the visitor already holds,
minus the name: status, programme, code and dates. French by default; ``?lang=en`` or the browser's
``Accept-Language`` switch to English, and without either the programme's language is used.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from campaignid.cards import service as cards
from campaignid.cards.card_image import local_date
from campaignid.cards.keys import key_ring
from campaignid.programs import logos

from . import revocations, rules
from .ratelimit import over_limit
from .service import check_card

LANGUAGES = ("fr", "en")


def _language(request: HttpRequest, card) -> str:
    asked = request.GET.get("lang", "")
    if asked in LANGUAGES:
        return asked
    if request.META.get("HTTP_ACCEPT_LANGUAGE") or request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
        return translation.get_language_from_request(request)[:2]
    return card.program.language if card is not None else settings.LANGUAGE_CODE


def _holder(request: HttpRequest, card) -> bool:
    key = request.GET.get("k", "")
    return bool(card is not None and key and hmac.compare_digest(key.encode(), card.holder_key.encode()))


def _too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    with translation.override(_language(request, None)):
        response = render(request, "verification/too_many.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _private(response: HttpResponse) -> HttpResponse:
    """Holder links carry a secret: never cached, never leaked through the Referer header."""
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


def _context(request: HttpRequest, code: str, card) -> dict:
    result = check_card(card)
    holder = _holder(request, card)
    context = {"code": code, "result": result, "card": card, "holder": holder, "query_k": ""}
    if card is not None:
        context["logo_url"] = logos.public_path(card.program)
        context["organisation_name"] = card.program.organisation.name
        context["issued_on"] = local_date(card.issued_at, card.program)
        context["expires_on"] = local_date(card.expires_at or card.issued_at, card.program)
        context["revoked_on"] = local_date(card.revoked_at, card.program) if card.revoked_at else None
    if holder:
        context["query_k"] = card.holder_key
        context["image_url"] = reverse("verification:card_image", args=[card.code]) + f"?k={card.holder_key}"
        context["wallet_url"] = cards.wallet_save_url(card) if result.status == "valid" else None
    return context


@require_GET
def card_page(request: HttpRequest, code: str) -> HttpResponse:
    retry_after = over_limit("card_page", request)
    if retry_after:
        return _private(_too_many(request, retry_after))
    normalised = cards.canonical_code(code)  # lower case, spaces, dashes missing: the card's own code
    card = cards.public_card(normalised)
    if card is not None and normalised != code:
        return redirect(reverse("verification:card", args=[normalised]) + _query(request))
    language = _language(request, card)
    with translation.override(language):
        context = _context(request, normalised, card)
        context["language"] = language
        response = render(request, "verification/card.html", context, status=200 if card else 404)
    response["Content-Language"] = language
    response["Vary"] = "Accept-Language, Cookie"
    return _private(response)


def _query(request: HttpRequest) -> str:
    query = request.GET.urlencode()
    return f"?{query}" if query else ""


@require_GET
def card_image(request: HttpRequest, code: str) -> HttpResponse:
    """The holder's card image (needs the holder's key); ``?download=1`` saves it as a file."""
    if over_limit("card_page", request):
        return _private(HttpResponse(status=429))
    card = cards.public_card(code)
    if not _holder(request, card):
        raise Http404("No card image here.")
    download = request.GET.get("download") == "1"
    response = FileResponse(cards.card_png_path(card).open("rb"), content_type="image/png",
                            as_attachment=download, filename=f"{card.code}.png")
    return _private(response)


@require_GET
def programme_logo(request: HttpRequest, stem: str) -> HttpResponse:
    """A programme's logo, public (Google fetches it for the pass): always a PNG we wrote ourselves, under a
    name that changes with the image, so it may be cached for a year."""
    program = logos.find(stem)
    if program is None:
        raise Http404("No logo here.")
    response = FileResponse(program.logo.open("rb"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@require_GET
def lookup(request: HttpRequest) -> HttpResponse:
    """``/c/?code=…``: a typed code goes to its page; no code shows the form."""
    code = cards.canonical_code(request.GET.get("code", ""))
    lang = request.GET.get("lang", "")
    suffix = f"?lang={lang}" if lang in LANGUAGES else ""
    if code:
        return redirect(reverse("verification:card", args=[code]) + suffix)
    language = _language(request, None)
    with translation.override(language):
        response = render(request, "verification/lookup.html", {"language": language})
    response["Content-Language"] = language
    return response


@require_GET
@cache_control(public=True, max_age=3600)
def jwks(request: HttpRequest) -> JsonResponse:
    """The public keys that sign cards (RFC 7517 JWK set), for offline verifier apps."""
    response = JsonResponse(key_ring().jwks())
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _cose(body: bytes, max_age: int) -> HttpResponse:
    response = HttpResponse(body, content_type="application/cose")
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def revocation_list(request: HttpRequest) -> HttpResponse:
    """The signed revocation list (``?since=<version>`` for a delta); format in ``revocations.py``."""
    since = request.GET.get("since", "")
    return _cose(revocations.document(int(since) if since.isdigit() else None), 60)


@require_GET
def verification_rules(request: HttpRequest) -> HttpResponse:
    """The signed rule set per programme; format in ``rules.py``."""
    return _cose(rules.document(), 300)


# --- the offline verifier (/verify/, and /v: the short address printed in the card's QR) --------------
VERIFIER_STATIC = ("verification/verifier.css", "verification/vendor/jsQR.js", "verification/verifier-i18n.js",
                   "verification/verifier-core.js", "verification/verifier.js", "verification/icon-192.png",
                   "verification/icon-512.png")
VERIFIER_SCOPE = "/v"  # covers /v and /verify/


def _shell_version() -> str:
    digest = hashlib.sha256()
    for name in VERIFIER_STATIC:
        path = finders.find(name)
        digest.update(Path(path).read_bytes() if path else name.encode())
    return digest.hexdigest()[:12]


@require_GET
def verifier(request: HttpRequest) -> HttpResponse:
    """The verifier app: works offline once loaded; the token in the URL fragment never reaches us."""
    response = render(request, "verification/verify.html", {"scope": VERIFIER_SCOPE})
    response["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=(), payment=()"
    response["Cache-Control"] = "no-cache"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def verifier_worker(request: HttpRequest) -> HttpResponse:
    pages = [reverse("verification:verifier"), reverse("verification:verifier_short")]
    files = pages[:1] + [static(name) for name in VERIFIER_STATIC] + [reverse("verification:manifest")]
    context = {"version": _shell_version(), "files": json.dumps(files), "pages": json.dumps(pages)}
    response = render(request, "verification/verifier-sw.js", context, content_type="text/javascript")
    response["Service-Worker-Allowed"] = VERIFIER_SCOPE
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def verifier_manifest(request: HttpRequest) -> JsonResponse:
    manifest = {
        "name": "CampaignID — vérifier une carte / check a card", "short_name": "Vérifier",
        "start_url": reverse("verification:verifier"), "scope": VERIFIER_SCOPE, "display": "standalone",
        "background_color": "#f4f5f7", "theme_color": "#0b5f56", "lang": "fr",
        "icons": [{"src": static(f"verification/icon-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png"}
                  for n in (192, 512)],
    }
    response = JsonResponse(manifest, content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response


def _household(request: HttpRequest, code: str):
    """The household named by ``code`` when the request carries its key, else None (same answer for both)."""
    from campaignid.programs.models import Household

    home = Household.objects.select_related("program__organisation").filter(code=code.strip().lower()).first()
    key = request.GET.get("k", "")
    if home is not None and key and hmac.compare_digest(key.encode(), home.key.encode()):
        return home
    return None


def _household_cards(home) -> list:
    """(beneficiary, valid card) of the household, by first name."""
    from campaignid.cards.models import Card
    from campaignid.distribution import households

    people = list(households.members(home))
    valid = {c.beneficiary_id: c for c in Card.objects.filter(beneficiary__in=people, status=Card.VALID)
             .select_related("program__organisation")}
    return [(b, valid[b.pk]) for b in people if b.pk in valid and check_card(valid[b.pk]).status == "valid"]


@require_GET
def household_pdf(request: HttpRequest, code: str) -> HttpResponse:
    """Every card of the household in one PDF, one page each (what WhatsApp sends as a document)."""
    from campaignid.cards.household_pdf import household_filename, render_household_pdf

    retry_after = over_limit("card_page", request)
    if retry_after:
        return _private(_too_many(request, retry_after))
    home = _household(request, code)
    pairs = _household_cards(home) if home else []
    if not pairs:
        raise Http404("no such household")
    lang = _language(request, home)
    response = HttpResponse(render_household_pdf([c for _, c in pairs], lang=lang, household=home.code),
                            content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{household_filename(home.code, lang=lang)}"'
    return _private(response)


@require_GET
def household_page(request: HttpRequest, code: str) -> HttpResponse:
    """``/h/<code>?k=<key>``: the cards of a household (one phone, several beneficiaries), first names and
    card codes only, each to open, download or add to Google Wallet. Nothing is shown without the key."""
    retry_after = over_limit("card_page", request)
    if retry_after:
        return _private(_too_many(request, retry_after))
    home = _household(request, code)
    key = request.GET.get("k", "")
    language = _language(request, home)  # a household, like a card, has a programme
    items = []
    for b, card in _household_cards(home) if home else []:
        image = reverse("verification:card_image", args=[card.code]) + f"?k={card.holder_key}"
        items.append({"first_name": b.first_name or "—", "code": card.code, "image_url": image,
                      "page_url": reverse("verification:card", args=[card.code]) + f"?k={card.holder_key}",
                      "wallet_url": cards.wallet_save_url(card)})
    pdf_url = reverse("verification:household_pdf", args=[home.code]) + f"?k={home.key}&lang={language}" \
        if home and items else ""
    with translation.override(language):
        context = {"home": home, "items": items, "language": language, "query_k": key if home else "",
                   "pdf_url": pdf_url, "programme": home.program if home else None}
        response = render(request, "verification/household.html", context, status=200 if home else 404)
    response["Content-Language"] = language
    response["Vary"] = "Accept-Language, Cookie"
    return _private(response)
