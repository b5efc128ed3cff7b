"""Known secrets are set, then sends, callbacks and failures run; none of the secrets may then appear in
clear in the logs, the API answers, the dashboard HTML, the CSV export or the database (file and rows)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection

from campaignid.programs.models import ApiToken, Membership
from campaignid.sandbox.testing import control

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ORANGE_ID, ORANGE_SECRET = "Orange-Client-Id-Known-5tG8", "Orange-Client-Secret-Known-9b1X"
WEBHOOK_SECRET = "Orange-Webhook-Secret-Known-4hT2"
WA_TOKEN, WA_APP_SECRET = "WA-Access-Token-Known-8mN3", "WA-App-Secret-Known-6pQ1"
DHIS2_PASSWORD, WRONG_SECRET = "Dhis2-Password-Known-2kL9", "Orange-Wrong-Secret-Known-7zX4"


class Seen:
    """Everything an attacker with logs, answers, pages, exports or a copy of the database could read."""

    def __init__(self, client, token: str) -> None:
        self.client, self.token, self.texts = client, token, []

    def call(self, method: str, path: str, body=None, bearer: bool = True, **extra):
        if bearer:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
        resp = getattr(self.client, method.lower())(path, **kwargs, **extra)
        content = b"".join(resp.streaming_content) if resp.streaming else resp.content
        self.texts.append(f"{resp.status_code}\n{resp.headers}\n{content.decode(errors='replace')}")  # not the path
        return resp


def receipt(request_id: str, number: str, status: str) -> dict:
    href = f"https://api.orange.com/smsmessaging/v1/outbound/tel:+2210000/requests/{request_id}"
    return {"deliveryInfoNotification": {"callbackData": "", "deliveryInfo": {
        "address": f"tel:{number}", "deliveryStatus": status, "link": [{"rel": "OutboundMessageRequest",
                                                                         "href": href}]}}}


READ_FILE = "import sys; sys.stdout.buffer.write(open(sys.argv[1], 'rb').read())"


def database_dump() -> str:
    """Every row of every table as stored (raw SQL: encrypted fields stay encrypted), and the SQLite files."""
    rows = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
            rows.append(str(cursor.fetchall()))
    if connection.vendor == "sqlite":
        # Read by another process: closing a descriptor of the database file in this process would drop every
        # POSIX lock SQLite holds on it here, and a worker process could then reset the WAL under our feet.
        for suffix in ("", "-wal"):
            path = Path(str(connection.settings_dict["NAME"]) + suffix)
            if path.exists():
                read = subprocess.run([sys.executable, "-c", READ_FILE, str(path)], capture_output=True, check=True)
                rows.append(read.stdout.decode("latin-1"))
    return "\n".join(rows)


def test_known_secrets_never_appear_in_clear(client, sandbox_settings, inline_queue, make_org, make_beneficiary,
                                             django_user_model, caplog):
    caplog.set_level(logging.DEBUG)
    sandbox = sandbox_settings
    control(sandbox, "/orange/apps", {"client_id": ORANGE_ID, "client_secret": ORANGE_SECRET})
    control(sandbox, "/graph/tokens", {"token": WA_TOKEN})
    org, program = make_org(options={"quiet_hours": None})
    make_beneficiary(program, enrollment_id="SN1", phone="+221771234501")
    make_beneficiary(program, enrollment_id="SN2", phone="+221771234502")
    user = django_user_model.objects.create_user("admin-secrets", password="pw-123456789")
    Membership.objects.create(user=user, organisation=org, role=Membership.ADMIN)
    _, clear_token = ApiToken.issue(user, org, "secrets test")
    seen = Seen(client, clear_token)

    # Secrets set through the API, then read back (write-only: never answered).
    seen.call("PUT", "/api/v1/integrations/sms", {"enabled": True, "settings": {"rate_per_second": 50}, "secrets": {
        "client_id": ORANGE_ID, "client_secret": ORANGE_SECRET, "webhook_secret": WEBHOOK_SECRET}})
    seen.call("PUT", "/api/v1/integrations/whatsapp", {"enabled": True, "settings": {}, "secrets": {
        "access_token": WA_TOKEN, "app_secret": WA_APP_SECRET}})
    seen.call("GET", "/api/v1/integrations")
    dhis2 = f"{sandbox.url}/dhis2"
    seen.call("POST", "/dhis2/config", {"url": dhis2, "username": "admin", "password": DHIS2_PASSWORD})
    seen.call("POST", "/dhis2/test-connection", {})
    seen.call("POST", "/dhis2/test-connection", {"url": dhis2, "username": "admin", "password": DHIS2_PASSWORD})

    # Sends, with and without success; callbacks right, malformed and with a guessed secret.
    sent = seen.call("POST", "/dhis2/send-card", {"enrollment_id": "SN1", "channel": "sms"})
    assert sent.status_code == 200, sent.content
    seen.call("POST", "/dhis2/send-card", {"enrollment_id": "SN2", "channel": "whatsapp"})
    seen.call("POST", "/dhis2/send-card", {"enrollment_id": "SN1", "channel": "sms", "phone_number": "+33612345678"})
    request_id = sent.json()["message_id"]
    seen.call("POST", f"/webhooks/orange-sms/{WEBHOOK_SECRET}", receipt(request_id, "+221771234501",
                                                                        "DeliveredToTerminal"), bearer=False)
    seen.call("POST", f"/webhooks/orange-sms/{WEBHOOK_SECRET}", "not json", bearer=False)
    seen.call("PUT", f"/webhooks/orange-sms/{WEBHOOK_SECRET}", bearer=False)
    seen.call("POST", "/webhooks/orange-sms/guessed-secret", receipt(request_id, "+221771234501", "x"), bearer=False)
    seen.call("POST", "/webhooks/whatsapp", {"entry": []}, bearer=False, HTTP_X_HUB_SIGNATURE_256="sha256=00")

    # A refused credential: the provider's failure path, then what the dashboard shows of it all.
    seen.call("PUT", "/api/v1/integrations/sms", {"enabled": True, "settings": {}, "secrets": {
        "client_secret": WRONG_SECRET}})
    seen.call("POST", "/dhis2/send-card", {"enrollment_id": "SN2", "channel": "sms"})
    seen.call("GET", "/api/v1/alerts")
    seen.call("GET", "/api/v1/deliveries")
    seen.call("GET", "/api/v1/deliveries/export.csv")
    seen.call("GET", "/api/v1/audit-events")
    client.force_login(user)
    for page in ("/settings/integrations/", "/distribution/logs/", "/settings/audit/", "/settings/tokens/"):
        seen.call("GET", page, bearer=False)

    places = {"answers and pages": "\n".join(seen.texts), "logs": caplog.text + "\n".join(
        r.getMessage() for r in caplog.records), "database": database_dump()}
    assert "/webhooks/orange-sms/[redacted]" in places["logs"]  # the failing callbacks were logged, redacted
    for secret in (ORANGE_ID, ORANGE_SECRET, WEBHOOK_SECRET, WA_TOKEN, WA_APP_SECRET, DHIS2_PASSWORD, WRONG_SECRET,
                   clear_token):
        for where, text in places.items():
            at = text.find(secret)
            assert at < 0, f"{secret} in clear in the {where}: …{text[max(0, at - 300):at + 60]!r}"
