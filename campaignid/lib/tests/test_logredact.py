"""Secrets carried in URLs are redacted from every log line: Django's request logger and gunicorn's
access log included."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from campaignid.lib.logredact import RedactSecrets, redact
from campaignid.lib.testing import free_port, shared_database_url

CASES = [
    ("Not Found: /webhooks/orange-sms/s3cr3t-Receipts", "Not Found: /webhooks/orange-sms/[redacted]"),
    ('"POST /webhooks/orange-sms/abc123?x=1 HTTP/1.1" 400', '"POST /webhooks/orange-sms/[redacted]?x=1 HTTP/1.1" 400'),
    ("GET /c/AAA-VAC-7K2M9Q?k=HolderKey_9xYz&lang=fr", "GET /c/AAA-VAC-7K2M9Q?k=[redacted]&lang=fr"),
    ("GET /webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=vt-123&hub.challenge=42",
     "GET /webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=[redacted]&hub.challenge=42"),
    ("GET /x?client_secret=abc&password=p4ss", "GET /x?client_secret=[redacted]&password=[redacted]"),
    ("token cid_aI5GLPktyGB_IPTVvg_lPxctufPR used", "token cid_[redacted] used"),
    ("Authorization: Bearer eyJhbGciOi.J9x-y", "Authorization: Bearer [redacted]"),
    ("GET /c/AAA-VAC-7K2M9Q?lang=en 200", "GET /c/AAA-VAC-7K2M9Q?lang=en 200"),  # nothing secret: unchanged
    ("GET /api/v1/deliveries?keyset=1", "GET /api/v1/deliveries?keyset=1"),
]


@pytest.mark.parametrize(("line", "expected"), CASES)
def test_secrets_in_urls_are_redacted(line, expected):
    assert redact(line) == expected


def test_the_filter_rewrites_records_with_arguments_and_keeps_them_all():
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "%s: %s", ("Not Found",
                               "/webhooks/orange-sms/abc"), None)
    assert RedactSecrets().filter(record) and record.getMessage() == "Not Found: /webhooks/orange-sms/[redacted]"
    plain = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    assert RedactSecrets().filter(plain) and plain.args == ("world",)


@pytest.mark.django_db
def test_django_request_logger_never_writes_the_orange_secret(client, caplog, settings):
    caplog.set_level(logging.INFO)
    for path in ("/webhooks/orange-sms/Orange-Receipts-Secret-42", "/c/AAA-VAC-7K2M9Q?k=HolderKey-42"):
        assert client.put(path).status_code >= 400
    assert "django.request" in {r.name for r in caplog.records}
    assert "Orange-Receipts-Secret-42" not in caplog.text and "HolderKey-42" not in caplog.text
    assert "/webhooks/orange-sms/[redacted]" in caplog.text


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_gunicorn_access_and_error_logs_never_write_the_secret(tmp_path, settings):
    port = free_port()
    env = dict(os.environ, DATABASE_URL=shared_database_url(), CAMPAIGNID_DATA_DIR=str(settings.DATA_DIR),
               DJANGO_SETTINGS_MODULE="campaignid.settings", QUEUE_URL=f"sqlite:///{tmp_path / 'q.sqlite3'}")
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "campaignid.wsgi:application", "--bind",  # noqa: S603
                             f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", str(access),
                             "--error-logfile", str(errors), "--log-level", "info", "--capture-output"], env=env)
    try:
        _wait(f"http://127.0.0.1:{port}/health")
        for path in ("/webhooks/orange-sms/Orange-Receipts-Secret-42", "/c/AAA-VAC-7K2M9Q?k=HolderKey-42"):
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="PUT"),  # noqa: S310
                                       timeout=10)
    finally:
        proc.terminate()
        proc.wait(30)
    logged = access.read_text() + errors.read_text()
    assert "/webhooks/orange-sms/[redacted]" in access.read_text() and "k=[redacted]" in access.read_text()
    assert "Method Not Allowed" in logged  # Django's request logger wrote through gunicorn's error log
    assert "Orange-Receipts-Secret-42" not in logged and "HolderKey-42" not in logged


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")
