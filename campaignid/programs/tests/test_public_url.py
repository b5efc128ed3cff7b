"""Links, SMS, WhatsApp messages and cards point where the service listens, and `check` warns otherwise."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from campaignid.programs.checks import public_url_problem
from campaignid.programs.management.commands.serve import Command


@pytest.mark.parametrize("public, host, port, warns", [
    ("http://127.0.0.1:8000", "127.0.0.1", 8000, False),
    ("http://127.0.0.1:8000", "127.0.0.1", 9000, True),
    ("http://localhost", "0.0.0.0", 80, False),
    ("http://localhost:8000", "0.0.0.0", 8080, True),
    ("https://cards.sante.gouv.sn", "127.0.0.1", 8000, False),  # behind a proxy: any port is legitimate
    ("cards.sante.gouv.sn", "127.0.0.1", 8000, True),
])
def test_public_url_problem(public, host, port, warns):
    assert bool(public_url_problem(public, host, port)) is warns


def _settings_value(env_extra: dict, tmp_path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGNID_")}
    env.update({"CAMPAIGNID_DATA_DIR": str(tmp_path), **env_extra})
    code = "import campaignid.settings as s; print(s.CAMPAIGNID_PUBLIC_URL)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


def test_the_public_url_defaults_to_the_listening_port(tmp_path):
    assert _settings_value({"CAMPAIGNID_PORT": "9000"}, tmp_path) == "http://127.0.0.1:9000"
    assert _settings_value({"CAMPAIGNID_HOST": "0.0.0.0", "CAMPAIGNID_PORT": "8080"}, tmp_path) == \
        "http://127.0.0.1:8080"
    assert _settings_value({}, tmp_path) == "http://127.0.0.1:8000"


def test_serve_passes_its_port_to_the_processes_it_starts():
    env = Command()._child_env("127.0.0.1", 9123)
    assert env["CAMPAIGNID_PORT"] == "9123" and env["CAMPAIGNID_HOST"] == "127.0.0.1"
    assert env.get("SANDBOX_WHATSAPP_WEBHOOK_URL", "").startswith("http://127.0.0.1:9123/")


def test_check_warns_when_the_public_url_port_is_not_the_listening_port(settings):
    settings.CAMPAIGNID_PUBLIC_URL, settings.CAMPAIGNID_PORT = "http://127.0.0.1:8000", 9000
    err = io.StringIO()
    call_command("check", stderr=err, stdout=io.StringIO())
    assert "campaignid.W300" in err.getvalue() and "listens on 127.0.0.1:9000" in err.getvalue()
    settings.CAMPAIGNID_PORT = 8000
    err = io.StringIO()
    call_command("check", stderr=err, stdout=io.StringIO())
    assert "W300" not in err.getvalue()
