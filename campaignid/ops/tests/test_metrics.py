"""``/metrics`` as Prometheus scrapes it, read back with prometheus_client's own parser."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from campaignid.channels.models import ChannelConfig
from campaignid.distribution.models import Batch, Delivery, StatusInbox
from campaignid.sandbox.testing import control


def _scrape(client, **extra) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _deliveries(program, person, rows):
    now = timezone.now()
    for channel, status, category, n in rows:
        for _ in range(n):
            Delivery.objects.create(organisation=program.organisation, program=program, beneficiary=person,
                                    channel=channel, status=status, error_category=category,
                                    next_attempt_at=now - timedelta(seconds=5))


@pytest.mark.django_db
def test_deliveries_backlog_pauses_and_intake_lag_are_exposed_without_personal_data(
        client, make_org, make_beneficiary):
    org, program = make_org()
    person = make_beneficiary(program, first_name="Mariama", phone="+221771234567")
    _deliveries(program, person, [("sms", "delivered", "", 3), ("sms", "failed", "invalid_number", 2),
                                  ("whatsapp", "read", "", 1), ("sms", "pending", "", 4)])
    Batch.objects.create(organisation=org, program=program, channels=["sms"], total=10, state=Batch.State.RUNNING)
    ChannelConfig.objects.create(organisation=org, channel="sms", paused_until=timezone.now() + timedelta(hours=1),
                                 paused_reason="POL0001")
    StatusInbox.objects.create(channel="sms", status="delivered", at=timezone.now(),
                               received_at=timezone.now() - timedelta(seconds=42))

    samples = _scrape(client)

    def value(name, **labels):
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("campaignid_deliveries", channel="sms", status="delivered", category="") == 3
    assert value("campaignid_deliveries", channel="sms", status="failed", category="invalid_number") == 2
    assert value("campaignid_deliveries", channel="whatsapp", status="read", category="") == 1
    assert value("campaignid_due_backlog") == 4
    assert value("campaignid_batches", state="running") == 1
    assert value("campaignid_paused_accounts", channel="sms") == 1
    assert value("campaignid_webhook_intake_backlog") == 1
    assert 41 <= value("campaignid_webhook_intake_lag_seconds") < 120
    assert ("campaignid_queue_depth", ()) in samples
    body = client.get("/metrics").content.decode()
    assert "Mariama" not in body and "771234567" not in body and org.slug not in body


@pytest.mark.django_db
@pytest.mark.parametrize(("address", "header", "allowed"), [
    ("127.0.0.1", "", True),                          # the operator's own host
    ("10.1.2.3", "", False),                          # anyone else on the network
    ("10.1.2.3", "Bearer wrong-token", False),
    ("10.1.2.3", "Bearer s3cret-scrape-token", True),  # Prometheus with its bearer token
])
def test_only_the_operator_reads_metrics(client, settings, address, header, allowed):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    extra = {"REMOTE_ADDR": address}
    if header:
        extra["HTTP_AUTHORIZATION"] = header
    response = client.get("/metrics", **extra)
    assert response.status_code == (200 if allowed else 403)
    if not allowed:
        assert b"campaignid_" not in response.content


@pytest.mark.django_db(transaction=True)
def test_send_latency_per_provider_is_observed_on_a_real_send(
        client, sandbox_settings, inline_queue, make_org, make_beneficiary, make_token, api_client):
    org, program = make_org(options={"quiet_hours": None})
    make_beneficiary(program, enrollment_id="ENR-M1", phone="+221771230001")
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": 50})
    control(sandbox_settings, "/orange/config", {"rate_limit": 0})
    before = _scrape(client).get(("campaignid_send_seconds_count", (("channel", "sms"), ("outcome", "accepted"))), 0)
    response = api_client("post", "/api/v1/distributions", make_token(org),
                          {"programme": program.dhis2_program_uid, "channel": "sms",
                           "message": "Carte : {verification_url}"})
    assert response.status_code == 201, response.content
    after = _scrape(client)
    assert after[("campaignid_send_seconds_count", (("channel", "sms"), ("outcome", "accepted")))] == before + 1
    assert after[("campaignid_send_seconds_sum", (("channel", "sms"), ("outcome", "accepted")))] > 0


OBSERVE = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
from campaignid.lib.metrics import observe_send
for _ in range(3):
    observe_send("whatsapp", 0.2, ok=True)
observe_send("whatsapp", 4.0, ok=False)
"""


def test_samples_of_other_processes_are_summed_in_multiprocess_mode(tmp_path, settings, db):
    """Under gunicorn and separate queue consumers, each process writes its own samples; the scrape sums them."""
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    for _ in range(2):  # two worker processes
        subprocess.run([sys.executable, "-c", OBSERVE], env=env, check=True, timeout=60)
    script = (
        "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'campaignid.settings'); django.setup();"
        "from campaignid.ops.metrics import exposition; import sys; sys.stdout.write(exposition().decode())"
    )
    out = subprocess.run([sys.executable, "-c", script], env=dict(env, DATABASE_URL=_db_url()),
                         check=True, timeout=60, capture_output=True, text=True).stdout
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(out) for s in f.samples}
    assert samples[("campaignid_send_seconds_count", (("channel", "whatsapp"), ("outcome", "accepted")))] == 6
    assert samples[("campaignid_send_seconds_count", (("channel", "whatsapp"), ("outcome", "refused")))] == 2
    assert samples[("campaignid_send_seconds_bucket", (("channel", "whatsapp"), ("le", "5.0"),
                                                       ("outcome", "refused")))] == 2


def _db_url() -> str:
    from campaignid.lib.testing import shared_database_url

    return shared_database_url()
