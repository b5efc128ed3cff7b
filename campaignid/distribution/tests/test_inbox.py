"""Buffered status intake (the default): webhooks store verified callbacks and answer at once; a worker
applies them in bulk, in time order; early callbacks wait for their delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from campaignid.distribution import inbox
from campaignid.distribution.models import Delivery, StatusInbox

pytestmark = [pytest.mark.django_db, pytest.mark.buffered_intake]
SECRET = b"sandbox-app-secret"


def _post(client, statuses):
    value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "221338000000",
                                                            "phone_number_id": "100000000000001"},
             "statuses": statuses}
    body = json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "200000000000001", "changes": [{"field": "messages", "value": value}]}]})
    sig = "sha256=" + hmac.new(SECRET, body.encode(), hashlib.sha256).hexdigest()
    return client.post("/webhooks/whatsapp", data=body, content_type="application/json",
                       HTTP_X_HUB_SIGNATURE_256=sig)


def _status(wamid, status, ts):
    return {"id": wamid, "status": status, "timestamp": str(ts), "recipient_id": "221775550000"}


@pytest.fixture
def delivery(make_org, make_beneficiary, settings):
    settings.CAMPAIGNID_SANDBOX = True
    org, program = make_org()
    b = make_beneficiary(program)
    return Delivery.objects.create(organisation=org, program=program, beneficiary=b, channel="whatsapp",
                                   status="sent", provider_message_id="wamid.ABC", sent_at=timezone.now())


def test_webhook_stores_and_a_worker_applies_in_time_order(client, delivery):
    now = int(timezone.now().timestamp()) + 5
    resp = _post(client, [_status("wamid.ABC", "read", now + 2), _status("wamid.ABC", "delivered", now)])
    assert resp.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == "sent" and StatusInbox.objects.count() == 2
    assert inbox.apply() == 2
    delivery.refresh_from_db()
    assert delivery.status == "read" and delivery.delivered_at < delivery.read_at
    assert not StatusInbox.objects.exists()


def test_forged_callback_is_not_stored(client, delivery):
    resp = client.post("/webhooks/whatsapp", data="{}", content_type="application/json",
                       HTTP_X_HUB_SIGNATURE_256="sha256=" + "0" * 64)
    assert resp.status_code in (401, 403) and not StatusInbox.objects.exists()


def test_callback_before_its_delivery_is_known_waits_then_applies(client, delivery):
    now = int(timezone.now().timestamp()) + 5
    _post(client, [_status("wamid.LATE", "delivered", now)])
    assert inbox.apply() == 0 and StatusInbox.objects.get().tries == 1
    Delivery.objects.filter(pk=delivery.pk).update(provider_message_id="wamid.LATE")
    assert inbox.apply() == 1
    assert Delivery.objects.get(pk=delivery.pk).status == "delivered"


def test_unmatched_callback_is_dropped_after_its_time_to_live(client, delivery):
    _post(client, [_status("wamid.NOBODY", "delivered", int(timezone.now().timestamp()))])
    StatusInbox.objects.update(received_at=timezone.now() - inbox.UNMATCHED_TTL - timedelta(seconds=1))
    inbox.apply()
    assert not StatusInbox.objects.exists()


@pytest.mark.parametrize("intake", ["buffered", "inline"])
def test_an_organisation_secret_cannot_change_another_organisation_delivery(client, delivery, make_org, settings,
                                                                           intake):
    from campaignid.channels.models import ChannelConfig

    settings.STATUS_INTAKE = intake
    org_a, _ = make_org("org-intruder", "INT-VAC")
    ChannelConfig.objects.create(organisation=org_a, channel="whatsapp", secrets={"app_secret": "intruder-secret"})
    now = int(timezone.now().timestamp()) + 5
    value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "221338000000",
                                                            "phone_number_id": "100000000000001"},
             "statuses": [_status("wamid.ABC", "failed", now)]}
    body = json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "200000000000001", "changes": [{"field": "messages", "value": value}]}]})
    forged = "sha256=" + hmac.new(b"intruder-secret", body.encode(), hashlib.sha256).hexdigest()
    resp = client.post("/webhooks/whatsapp", data=body, content_type="application/json",
                       HTTP_X_HUB_SIGNATURE_256=forged)
    assert resp.status_code == 200  # a valid signature of a configured account
    inbox.apply()
    assert Delivery.objects.get(pk=delivery.pk).status == "sent"  # another organisation's: untouched
    resp = _post(client, [_status("wamid.ABC", "delivered", now)])  # the deployment's own secret
    inbox.apply()
    assert Delivery.objects.get(pk=delivery.pk).status == "delivered"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broken", [False, True])
def test_callbacks_arriving_together_are_committed_together_and_each_caller_learns_the_outcome(broken,
                                                                                              monkeypatch):
    """Threads of one web process storing at once share commits; none returns before its row is stored,
    and when the write fails every caller of the group fails (the provider retries), none is told "stored"."""
    import threading

    from django.db import connection as default_connection

    from campaignid.channels.base import StatusUpdate

    if broken:
        sql, prepared = inbox._insert_sql()
        broken_sql = sql.replace(StatusInbox._meta.db_table, "no_such_table")
        monkeypatch.setattr(inbox, "_insert_sql", lambda: (broken_sql, prepared))
    outcomes, start = [], threading.Barrier(8)

    def receive(i):
        start.wait()
        try:
            inbox.store("sms", [StatusUpdate(provider_message_id=f"req-{i}", status="delivered", at=timezone.now())])
            outcomes.append("stored")
        except Exception:  # noqa: BLE001 - the test records what each caller saw
            outcomes.append("failed")
        finally:
            default_connection.close()

    threads = [threading.Thread(target=receive, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if broken:
        assert outcomes == ["failed"] * 8 and not StatusInbox.objects.exists()
    else:
        assert outcomes == ["stored"] * 8
        assert sorted(StatusInbox.objects.values_list("provider_message_id", flat=True)) == sorted(
            f"req-{i}" for i in range(8))


@pytest.mark.django_db(transaction=True)
def test_a_callback_of_several_statuses_is_stored_whole_outside_any_transaction():
    """Outside a transaction (as in the web process) one callback's statuses are written by one statement on
    PostgreSQL, by the group commit on SQLite; either way every status keeps its own values and times."""
    from campaignid.channels.base import StatusUpdate
    from campaignid.channels.events import Billing

    at = timezone.now().replace(microsecond=123456)
    updates = [StatusUpdate(provider_message_id="wamid.1", status="delivered", at=at),
               StatusUpdate(provider_message_id="wamid.2", status="failed", at=at + timedelta(seconds=1),
                            error_code="131026", error_category="undeliverable", error_detail="Message undeliverable"),
               StatusUpdate(provider_message_id="wamid.3", status="read", at=at + timedelta(seconds=2),
                            billing=Billing("utility", True, ""))]
    inbox.store("whatsapp", updates, organisations=[7])
    rows = {r.provider_message_id: r for r in StatusInbox.objects.all()}
    assert sorted(rows) == ["wamid.1", "wamid.2", "wamid.3"]
    assert [(rows[u.provider_message_id].status, rows[u.provider_message_id].at) for u in updates] == [
        (u.status, u.at) for u in updates]
    assert (rows["wamid.2"].error_code, rows["wamid.2"].error_category) == ("131026", "undeliverable")
    assert inbox._update(rows["wamid.3"]).billing == Billing("utility", True, "")
    assert all(r.organisations == [7] for r in rows.values())


@pytest.mark.django_db(transaction=True)
def test_a_callback_whose_write_fails_stores_none_of_its_statuses(monkeypatch):
    from campaignid.channels.base import StatusUpdate

    sql, prepared = inbox._insert_sql()
    # the second row breaks the statement: its status is NULL in a NOT NULL column
    updates = [StatusUpdate(provider_message_id="wamid.ok", status="delivered", at=timezone.now()),
               StatusUpdate(provider_message_id="wamid.bad", status=None, at=timezone.now())]
    with pytest.raises(Exception):  # noqa: B017, PT011 - the database's own integrity error
        inbox.store("whatsapp", updates)
    assert not StatusInbox.objects.exists()
