"""Every dashboard page and the public holder pages, in French with realistic data (batches in every state,
deliveries in every status and failure category, DHIS2 sync runs in every state, events of every kind and
source): no English msgid, raw code or raw ``key=value`` detail is left on a French page, and no English
page writes a date month-first."""

from __future__ import annotations

import pytest

from campaignid.dhis2.models import SyncRun
from campaignid.distribution import reach_rollup
from campaignid.distribution.models import Batch, Status
from campaignid.programs.models import Membership

from ..labels import CATEGORIES, DETAILS
from . import realistic
from .page_text import month_first_dates, untranslated, visible_text
from .realistic import DETAIL_SAMPLES, EVENT_KINDS

pytestmark = pytest.mark.django_db

# Codes that must never reach a French reader as they are stored.
RAW_CODES = ({c for c in [*CATEGORIES, *EVENT_KINDS, *DETAIL_SAMPLES, *DETAILS] if "_" in c}
             | {"google_wallet", "outcome_unknown", "returned_unsent", "resend_after_unknown"}
             | {s.value for s in Status} | {s.value for s in Batch.State} | {s.value for s in SyncRun.Status}
             | {"sweeper", "dispatch", "reprint", "engine"}
             | {c.replace("_", " ") for c in DETAIL_SAMPLES if "_" in c})  # a key shown as its words


@pytest.fixture
def world(programme, make_beneficiary, login, sandbox_settings):
    org, program = programme
    client = login(org, Membership.ADMIN)
    world = realistic.build(program, make_beneficiary)
    reach_rollup.refresh(program)  # the reach page shows figures, not only "not computed yet"
    return client, realistic.pages(world)


def _html(client, path: str, lang: str) -> str:
    client.cookies["django_language"] = lang
    resp = client.get(path, {"lang": lang} if path.startswith("/c/") else None)
    assert resp.status_code in (200, 404), (path, resp.status_code)
    return resp.content.decode()


def _french_problems(client, path: str) -> list[str]:
    html = _html(client, path, "fr")
    texts = visible_text(html)
    samples = [t for t in visible_text(html, samples=True) if t not in texts]
    return untranslated(texts, RAW_CODES, tuple(samples))


def test_no_french_page_shows_an_english_string_or_a_raw_code(world):
    client, paths = world
    problems = {path: found for path in paths if (found := _french_problems(client, path))}
    assert not problems, "\n".join(f"{p}: {sorted(set(f))}" for p, f in problems.items())


def test_no_english_page_writes_a_date_month_first(world):
    client, paths = world
    english = {path: visible_text(_html(client, path, "en")) for path in paths}
    problems = {path: found for path, texts in english.items() if (found := month_first_dates(texts))}
    assert not problems, problems


@pytest.mark.parametrize(("text", "caught"), [
    ("pending", True), ("Not sent: no recipient", True), ("provider_status=delivered billable=True", True),
    ("no_sms_route", True), ("Google Wallet", False), ("en attente", False), ("Dec. 3, 2026", None),
])
def test_the_checker_catches_english_and_raw_codes_and_spares_french(text, caught):
    if caught is None:
        assert month_first_dates([text]) == [text]
        return
    assert bool(untranslated([text], RAW_CODES)) is caught
