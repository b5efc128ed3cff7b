"""Realistic dashboard data for the page walks (translation and phone width): batches in every state,
deliveries in every status and failure category, on every channel, events of every kind and source with
every detail, DHIS2 sync runs in every state and an alert; and the list of pages to visit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from campaignid.cards.service import issue_card
from campaignid.dhis2.models import Connection, SyncRun
from campaignid.distribution.models import Alert, Batch, Delivery, DeliveryEvent, Status

from ..labels import CATEGORIES, EVENTS, SOURCES

EVENT_KINDS = [*EVENTS, "outcome_unknown", "returned_unsent"]
EVENT_SOURCES = [*SOURCES, "reprint"]
DETAIL_SAMPLES = {"provider_status": "delivered", "billable": True, "category": "utility", "message_status": "accepted",
                  "retry_at": "2026-12-03T10:00:00+00:00", "code": "131026", "segments": 2, "text_truncated": False,
                  "error_category": "no_sms_route", "error_code": "131026", "retryable": True,
                  "decision": "resend_after_unknown", "batch_state": "paused", "provider_message_id": "wamid.HBg1",
                  "next_attempt_at": "2026-12-03T10:05:00+00:00", "in_doubt_since": "2026-12-03T09:59:00+00:00",
                  "actor": "admin", "attempt": 2, "error_detail": "Recipient phone number not on WhatsApp"}


@dataclass
class World:
    people: list
    card: object
    batches: dict
    deliveries: list


def _delivery(program, b, channel, status, category="", **kw):
    return Delivery.objects.create(
        organisation=program.organisation, program=program, beneficiary=b, channel=channel, status=status,
        recipient=b.phone, recipient_masked=f"+22177***{b.phone[-4:]}", error_category=category,
        error_code=category or "", error_detail="Provider said no" if category else "", **kw)


def _batches(program) -> dict:
    start = timezone.now() - timedelta(minutes=3)
    return {state: Batch.objects.create(organisation=program.organisation, program=program,
                                        channels=["sms", "whatsapp"], state=state, total=4, sent=1, delivered=1,
                                        failed=1, pending=1, planned=4, started_at=start)
            for state in Batch.State.values}


def _deliveries(program, people, card, batches) -> list:
    made = []
    pairs = [(c, s) for c in ("sms", "whatsapp", "google_wallet", "print") for s in Status.values if s != Status.FAILED]
    for i, (channel, status) in enumerate(pairs):
        made.append(_delivery(program, people[i % len(people)], channel, status, card=card,
                              batch=batches[Batch.State.RUNNING], billable=True, billing_category="utility"))
    for i, category in enumerate(CATEGORIES):
        made.append(_delivery(program, people[i % len(people)], ("sms", "whatsapp")[i % 2], Status.FAILED, category,
                              batch=batches[Batch.State.COMPLETED], failed_at=timezone.now()))
    for i, kind in enumerate(EVENT_KINDS):
        DeliveryEvent.objects.create(delivery=made[0], kind=kind, status=("sent", "failed", "")[i % 3],
                                     source=EVENT_SOURCES[i % len(EVENT_SOURCES)], details=DETAIL_SAMPLES)
    return made


def _dhis2(program) -> None:
    Connection.objects.create(organisation=program.organisation, url="https://dhis2.example.org",
                              username="campaignid", secrets={"password": "x"}, status="ok", dhis2_version="2.41.2")
    for status in SyncRun.Status.values:
        failed = status == SyncRun.Status.FAILED
        SyncRun.objects.create(program=program, status=status, fetched=10, created=3, updated=2,
                               error_code="dhis2_unreachable" if failed else "",
                               error_message="DHIS2 did not answer" if failed else "")


def build(program, make_beneficiary) -> World:
    people = [make_beneficiary(program, org_unit="PostYoff001", org_unit_name="Poste de santé de Yoff")
              for _ in range(6)]
    card, _ = issue_card(people[0])
    batches = _batches(program)
    deliveries = _deliveries(program, people, card, batches)
    _dhis2(program)
    Alert.objects.create(organisation=program.organisation, channel="whatsapp", code="131048",
                         category="rate_limited", message="Spam rate limit hit")
    return World(people, card, batches, deliveries)


def pages(world: World) -> list[str]:
    """Every dashboard page (one of each kind of detail page), the error page and the public pages."""
    uid = world.people[0].program.dhis2_program_uid
    return ["/", "/beneficiaries/", f"/beneficiaries/{world.people[0].pk}/", "/distribution/", "/distribution/new/",
            *[f"/distribution/batches/{b.pk}/" for b in world.batches.values()],
            "/distribution/logs/", "/distribution/logs/?status=failed",
            *[f"/distribution/logs/{d.pk}/" for d in world.deliveries[::3]],
            "/handover/", f"/programmes/{uid}/reach/", f"/programmes/{uid}/unreached/",
            f"/programmes/{uid}/unreached/?org_unit={world.people[0].org_unit}", "/settings/integrations/",
            "/settings/whatsapp-templates/", "/settings/rate-cards/",
            "/settings/tokens/", "/settings/audit/", "/sandbox/inbox/", "/no-such-page/",
            "/c/", f"/c/{world.card.code}", "/verify/"]
