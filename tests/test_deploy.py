"""deploy/: the systemd units pass systemd's own verifier and the compose file is well formed and runs
the commands this package really has."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from campaignid.lib.testing import IN_CI

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
INSTALLED = "/opt/campaignid/.venv/bin/campaignid"


def _subcommands() -> set[str]:
    from django.core.management import get_commands

    return set(get_commands())


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_unit_passes_systemd_analyze_verify(unit, tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        if IN_CI:
            pytest.fail("systemd-analyze is missing: CI must check the units")
        pytest.skip("systemd-analyze is not installed")
    # The unit names the installed path; point it at this checkout's console script for the check.
    local = str(Path(sys.executable).with_name("campaignid"))
    (tmp_path / unit.name).write_text(unit.read_text().replace(INSTALLED, local))
    target = tmp_path / unit.name
    result = subprocess.run([tool, "verify", "--man=no", str(target)],
                            capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if unit.stem.rstrip("@") in line and "Unit is bound" not in line]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_unit_runs_a_real_campaignid_command(unit):
    start = [line.split("=", 1)[1] for line in unit.read_text().splitlines() if line.startswith("ExecStart=")]
    assert len(start) == 1
    argv = start[0].split()
    assert argv[0] == INSTALLED and argv[1] in _subcommands()


def test_compose_file_is_well_formed_and_wires_web_workers_postgres_and_redis():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "worker"} <= set(services)
    build = services["migrate"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
    for name in ("migrate", "web", "worker"):
        service = services[name]
        assert service["command"][0] == "campaignid" and service["command"][1] in _subcommands()
        assert service["env_file"] == ["campaignid.env"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for volume in [v.split(":")[0] for s in services.values() for v in s.get("volumes", [])]:
        assert volume in compose["volumes"]
    example = (DEPLOY / "campaignid.env.example").read_text()
    for key in ("CAMPAIGNID_ENV=production", "DATABASE_URL=postgres://", "QUEUE_URL=redis://"):
        assert key in example
