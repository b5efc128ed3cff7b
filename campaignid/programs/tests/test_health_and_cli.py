import io
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from campaignid.lib.crypto import hash_token
from campaignid.programs.demo import bootstrap
from campaignid.programs.models import ApiToken, Beneficiary, Membership, Program


@pytest.mark.django_db
def test_health_reports_database_and_queue(client):
    resp = client.get("/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "database": "ok", "queue": "ok"}


@pytest.mark.django_db
def test_createtoken_prints_a_working_token(make_org, django_user_model, api_client):
    org, _ = make_org()
    user = django_user_model.objects.create_user("amina", password="pw-123456789")
    Membership.objects.create(user=user, organisation=org, role=Membership.ADMIN)
    out = io.StringIO()
    call_command("createtoken", user="amina", stdout=out)
    clear = out.getvalue().strip()
    assert ApiToken.objects.filter(token_hash=hash_token(clear)).exists()
    assert api_client("get", "/api/v1/programs", clear).status_code == 200


@pytest.mark.django_db
def test_createtoken_refuses_unknown_user():
    with pytest.raises(CommandError, match="No user"):
        call_command("createtoken", user="ghost")


@pytest.mark.django_db
def test_first_run_creates_demo_admin_once():
    password = bootstrap()
    assert password and len(password) >= 12
    assert bootstrap() is None
    program = Program.objects.get()
    assert program.code_prefix == "DKR-VAC" and Beneficiary.objects.filter(program=program).count() >= 5


@pytest.mark.django_db
def test_the_demo_programme_sms_costs_one_unit_without_rewriting_its_name():
    from campaignid.channels.orange_sms import segments

    bootstrap()
    program = Program.objects.get()
    assert segments.analyse(program.name)[1].encoding == "gsm7"  # no em dash forcing UCS-2
    text = program.template_for("sms").format(first_name="Moussa", programme_name=program.name,
                                              verification_url="https://cards.example.org/c/DKR-VAC-XXXXXXXX?k=" +
                                              "x" * 22)
    assert segments.analyse(text)[1].segments == 1


def _settings_in_subprocess(env_extra: dict, tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "CAMPAIGNID_ENCRYPTION_KEYS")}
    env.update({"CAMPAIGNID_DATA_DIR": str(tmp_path)}, **env_extra)
    return subprocess.run([sys.executable, "-c", "import campaignid.settings"], env=env, capture_output=True,
                          text=True, timeout=60)


def test_production_without_secret_key_refuses_to_start(tmp_path):
    result = _settings_in_subprocess({"CAMPAIGNID_ENV": "production"}, tmp_path)
    assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr


def test_production_with_secrets_from_files_starts(tmp_path):
    from cryptography.fernet import Fernet

    (tmp_path / "sk").write_text("x" * 60)
    (tmp_path / "ek").write_text(Fernet.generate_key().decode())
    result = _settings_in_subprocess({"CAMPAIGNID_ENV": "production", "SECRET_KEY_FILE": str(tmp_path / "sk"),
                                      "CAMPAIGNID_ENCRYPTION_KEYS_FILE": str(tmp_path / "ek")}, tmp_path)
    assert result.returncode == 0, result.stderr


def test_bad_queue_url_is_a_clear_start_up_error(tmp_path):
    result = _settings_in_subprocess({"QUEUE_URL": "amqp://nope"}, tmp_path)
    assert result.returncode != 0 and "QUEUE_URL must start with" in result.stderr
