"""Every dashboard page and the public holder pages, in French with realistic data (batches in every state,
deliveries in every status and failure category, DHIS2 sync runs in every state, events of every kind and
source): no English msgid, raw code or raw ``key=value`` detail is left on a French page, and no English
page writes a date month-first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaignid.cards.service import issue_card
from campaignid.dhis2.models import Connection, SyncRun
from campaignid.distribution.models import Alert, Batch, Delivery, DeliveryEvent, Status
from campaignid.programs.models import Membership

from ..labels import CATEGORIES, DETAILS, EVENTS, SOURCES
from .page_text import month_first_dates, untranslated, visible_text

pytestmark = pytest.mark.django_db

EVENT_KINDS = [*EVENTS, "outcome_unknown", "returned_unsent"]
EVENT_SOURCES = [*SOURCES, "reprint"]
DETAIL_SAMPLES = {"provider_status": "delivered", "billable": True, "category": "utility", "message_status": "accepted",
                  "retry_at": "2026-12-03T10:00:00+00:00", "code": "131026", "segments": 2, "text_truncated": False,
                  "error_category": "no_sms_route", "error_code": "131026", "retryable": True,
                  "decision": "resend_after_unknown", "batch_state": "paused", "provider_message_id": "wamid.HBg1",
                  "next_attempt_at": "2026-12-03T10:05:00+00:00", "in_doubt_since": "2026-12-03T09:59:00+00:00",
                  "actor": "admin", "attempt": 2, "error_detail": "Recipient phone number not on WhatsApp"}
# Codes that must never reach a French reader as they are stored.
RAW_CODES = ({c for c in [*CATEGORIES, *EVENT_KINDS, *DETAIL_SAMPLES, *DETAILS] if "_" in c}
             | {"google_wallet", "outcome_unknown", "returned_unsent", "resend_after_unknown"}
             | {s.value for s in Status} | {s.value for s in Batch.State} | {s.value for s in SyncRun.Status}
             | {"sweeper", "dispatch", "reprint", "engine"}
             | {c.replace("_", " ") for c in DETAIL_SAMPLES if "_" in c})  # a key shown as its words


def _delivery(program, b, channel, status, category="", **kw):
    return Delivery.objects.create(
        organisation=program.organisation, program=program, beneficiary=b, channel=channel, status=status,
        recipient=b.phone, recipient_masked=f"+22177***{b.phone[-4:]}", error_category=category,
        error_code=category or "", error_detail="Provider said no" if category else "", **kw)


@pytest.fixture
def world(programme, make_beneficiary, login, sandbox_settings):
    org, program = programme
    client = login(org, Membership.ADMIN)
    people = [make_beneficiary(program, org_unit_name="Poste de santé de Yoff") for _ in range(6)]
    card, _ = issue_card(people[0])
    batches = {state: Batch.objects.create(organisation=org, program=program, channels=["sms", "whatsapp"],
                                           state=state, total=4, sent=1, delivered=1, failed=1, pending=1,
                                           planned=4, started_at=timezone.now() - timedelta(minutes=3))
               for state in Batch.State.values}
    deliveries = []
    for i, (channel, status) in enumerate((c, s) for c in ("sms", "whatsapp", "google_wallet", "print")
                                          for s in Status.values if s != Status.FAILED):
        deliveries.append(_delivery(program, people[i % 6], channel, status, card=card,
                                    batch=batches[Batch.State.RUNNING], billable=True, billing_category="utility"))
    for i, category in enumerate(CATEGORIES):
        deliveries.append(_delivery(program, people[i % 6], ("sms", "whatsapp")[i % 2], Status.FAILED, category,
                                    batch=batches[Batch.State.COMPLETED], failed_at=timezone.now()))
    first = deliveries[0]
    for i, kind in enumerate(EVENT_KINDS):
        DeliveryEvent.objects.create(delivery=first, kind=kind, status=("sent", "failed", "")[i % 3],
                                     source=EVENT_SOURCES[i % len(EVENT_SOURCES)], details=DETAIL_SAMPLES)
    Connection.objects.create(organisation=org, url="https://dhis2.example.org", username="campaignid",
                              secrets={"password": "x"}, status="ok", dhis2_version="2.41.2")
    for status in SyncRun.Status.values:
        SyncRun.objects.create(program=program, status=status, fetched=10, created=3, updated=2,
                               error_code="dhis2_unreachable" if status == "failed" else "",
                               error_message="DHIS2 did not answer" if status == "failed" else "")
    Alert.objects.create(organisation=org, channel="whatsapp", code="131048", category="rate_limited",
                         message="Spam rate limit hit")
    return client, program, people, card, batches, deliveries


def _pages(world) -> list[str]:
    _, program, people, card, batches, deliveries = world
    return ["/", "/beneficiaries/", f"/beneficiaries/{people[0].pk}/", "/distribution/", "/distribution/new/",
            *[f"/distribution/batches/{b.pk}/" for b in batches.values()],
            "/distribution/logs/", "/distribution/logs/?status=failed",
            *[f"/distribution/logs/{d.pk}/" for d in deliveries[::3]],
            "/handover/", "/settings/integrations/", "/settings/whatsapp-templates/", "/settings/rate-cards/",
            "/settings/tokens/", "/settings/audit/", "/sandbox/inbox/", "/no-such-page/",
            "/c/", f"/c/{card.code}", "/verify/"]


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
    client = world[0]
    problems = {path: found for path in _pages(world) if (found := _french_problems(client, path))}
    assert not problems, "\n".join(f"{p}: {sorted(set(f))}" for p, f in problems.items())


def test_no_english_page_writes_a_date_month_first(world):
    client = world[0]
    english = {path: visible_text(_html(client, path, "en")) for path in _pages(world)}
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
