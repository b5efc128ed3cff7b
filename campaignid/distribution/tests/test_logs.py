"""Delivery logs: filters, keyset pagination, event history, CSV export identical to the API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from campaignid.distribution.models import Batch, Delivery, DeliveryEvent
from campaignid.lib.mask import mask_phone

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def logbook(make_org, make_beneficiary, make_token):
    org, program = make_org("org-a", "AAA-VAC")
    other_org, other_program = make_org("org-b", "BBB-VAC")
    batch = Batch.objects.create(organisation=org, program=program, channels=["whatsapp"])
    rows = []
    for i in range(30):
        b = make_beneficiary(program, enrollment_id=f"E{i:03d}")
        channel = ("whatsapp", "sms")[i % 2]
        status = ("sent", "delivered", "read", "failed", "pending")[i % 5]
        rows.append(Delivery.objects.create(
            organisation=org, program=program, beneficiary=b, channel=channel, status=status,
            recipient=b.phone, recipient_masked=mask_phone(b.phone), provider_message_id=f"m-{i}",
            batch=batch if i < 10 else None, created_at=T0 + timedelta(hours=i),
            error_category="not_on_whatsapp" if status == "failed" else ""))
    foreign = make_beneficiary(other_program, enrollment_id="FOREIGN")
    Delivery.objects.create(organisation=other_org, program=other_program, beneficiary=foreign, channel="sms",
                            created_at=T0)
    DeliveryEvent.objects.create(delivery=rows[0], kind="status", status="sent", source="dispatch")
    return make_token(org), rows, batch


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 30),
        ("channel=sms", 15),
        ("status=failed", 6),
        ("channel=whatsapp&status=read", 3),
        ("beneficiary=E007", 1),
        ("programme=AAA-VAC", 30),
        ("programme=IpHINAT79UW", 30),
        ("date_from=2026-11-21T00:00:00Z", 14),
        ("date_from=2026-11-20&date_to=2026-11-20T09:30:00Z", 2),
    ],
)
def test_filters_narrow_the_logs_and_never_cross_organisations(logbook, api_client, query, expected):
    token, _, _ = logbook
    resp = api_client("get", f"/api/v1/deliveries?limit=1000&{query}", token)
    assert resp.status_code == 200, resp.content
    results = resp.json()["results"]
    assert len(results) == expected
    assert all(r["enrollment_id"] != "FOREIGN" for r in results)


def test_batch_filter(logbook, api_client):
    token, _, batch = logbook
    assert len(api_client("get", f"/api/v1/deliveries?batch={batch.id}", token).json()["results"]) == 10


def test_rows_carry_masked_numbers_and_no_names(logbook, api_client):
    token, rows, _ = logbook
    row = api_client("get", "/api/v1/deliveries?beneficiary=E001", token).json()["results"][0]
    assert row["recipient"] == rows[1].recipient_masked and "***" in row["recipient"]
    assert rows[1].recipient not in str(row) and "Aminata" not in str(row) and "Diallo" not in str(row)


def test_keyset_pagination_walks_every_row_once(logbook, api_client):
    token, _, _ = logbook
    seen, cursor = [], None
    while True:
        url = "/api/v1/deliveries?limit=7" + (f"&cursor={cursor}" if cursor else "")
        page = api_client("get", url, token).json()
        seen += [r["id"] for r in page["results"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 30
    assert seen == sorted(seen, reverse=True)


def test_bad_cursor_and_bad_date_are_clear_422(logbook, api_client):
    token, _, _ = logbook
    assert api_client("get", "/api/v1/deliveries?cursor=@@@", token).json()["error"]["code"] == "invalid_cursor"
    bad = api_client("get", "/api/v1/deliveries?date_from=yesterday", token)
    assert bad.status_code == 422 and "ISO-8601" in bad.json()["error"]["message"]


def test_one_delivery_has_its_event_history(logbook, api_client):
    token, rows, _ = logbook
    body = api_client("get", f"/api/v1/deliveries/{rows[0].pk}", token).json()
    # a batch's delivery stores no "created" event: its history derives it from the row
    assert [(e["kind"], e["status"], e["source"]) for e in body["events"]] == [
        ("created", "pending", "batch"), ("status", "sent", "dispatch")]
    assert body["events"][0]["at"] == body["created_at"]


def test_each_send_keeps_its_provider_id_in_the_history_without_storing_it_twice(logbook, api_client):
    """The row holds the latest provider id; a resend's event keeps the one it replaced."""
    from campaignid.channels.base import SendResult
    from campaignid.distribution import dispatch

    token, rows, _ = logbook
    d = Delivery.objects.get(pk=rows[9].pk)  # an SMS, pending, never sent
    d.provider_message_id = ""
    d.save()
    dispatch.record([d], {d.pk: SendResult("first-id", segments=1)})
    Delivery.objects.filter(pk=d.pk).update(status="pending")  # failed by its receipt, then retried
    d.refresh_from_db()
    dispatch.record([d], {d.pk: SendResult("second-id", segments=2)})
    stored = [e.details for e in DeliveryEvent.objects.filter(delivery=d).order_by("id")]
    assert stored == [{}, {"segments": 2, "provider_message_id": "second-id", "replaces": "first-id"}]
    body = api_client("get", f"/api/v1/deliveries/{d.pk}", token).json()
    sends = [e for e in body["events"] if e["kind"] == "status" and e["status"] == "sent"]
    assert [(e["details"]["provider_message_id"], e["details"]["segments"]) for e in sends] == [
        ("first-id", 1), ("second-id", 2)]
    assert body["provider_message_id"] == "second-id"


def test_the_history_spells_out_what_the_events_do_not_store(logbook, api_client):
    token, rows, _ = logbook
    d = rows[9]  # an SMS
    for kind, status, source in [("attempt", "", "dispatch"), ("attempt", "", "dispatch"),
                                 ("status", "sent", "dispatch"), ("status", "delivered", "webhook")]:
        DeliveryEvent.objects.create(delivery=d, kind=kind, status=status, source=source)
    events = api_client("get", f"/api/v1/deliveries/{d.pk}", token).json()["events"]
    assert [e["details"] for e in events[1:]] == [
        {"attempt": 1}, {"attempt": 2}, {"provider_message_id": "m-9", "segments": 1},
        {"receipt": "DeliveredToTerminal"}]


def test_other_organisation_delivery_is_404(logbook, api_client):
    token, _, _ = logbook
    foreign = Delivery.objects.get(beneficiary__enrollment_id="FOREIGN")
    assert api_client("get", f"/api/v1/deliveries/{foreign.pk}", token).status_code == 404


@pytest.mark.parametrize("query", ["", "channel=sms&status=failed", "date_from=2026-11-21"])
def test_csv_export_of_the_filtered_set_matches_the_api(logbook, api_client, query):
    token, _, _ = logbook
    api_rows = api_client("get", f"/api/v1/deliveries?limit=1000&{query}", token).json()["results"]
    resp = api_client("get", f"/api/v1/deliveries/export.csv?{query}", token)
    assert resp["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(resp.streaming_content).decode())))
    assert [int(r["id"]) for r in table] == [r["id"] for r in api_rows]
    for row, api_row in zip(table, api_rows, strict=True):
        assert row["status"] == api_row["status"] and row["recipient"] == api_row["recipient"]
        assert row["enrollment_id"] == api_row["enrollment_id"]
    from campaignid.distribution.logs import COLUMNS

    assert list(table[0]) == [name for name, _ in COLUMNS]
