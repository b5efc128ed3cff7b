"""`campaignid serve` brings up web + consumer + sandbox on a fresh data directory and stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from campaignid.lib.testing import free_port

pytestmark = pytest.mark.slow


def _get(url: str):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.read()


def test_serve_starts_everything_and_ctrl_c_stops_it(tmp_path):
    port, sandbox_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env.update(CAMPAIGNID_DATA_DIR=str(tmp_path), SANDBOX_URL=f"http://127.0.0.1:{sandbox_port}",
               CAMPAIGNID_PUBLIC_URL=f"http://127.0.0.1:{port}")
    proc = subprocess.Popen([sys.executable, "-m", "campaignid.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "is running at" in line or proc.poll() is not None:
                break
        output = "".join(lines)
        assert "password:" in output, output
        status, body = _get(f"http://127.0.0.1:{port}/health")
        assert status == 200 and json.loads(body)["status"] == "ok"
        assert _get(f"http://127.0.0.1:{sandbox_port}/")[0] == 200
        assert _get(f"http://127.0.0.1:{port}/login/")[0] == 200
        assert (tmp_path / "campaignid.sqlite3").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0
    with pytest.raises(OSError):
        _get(f"http://127.0.0.1:{port}/health")
    with pytest.raises(OSError):
        _get(f"http://127.0.0.1:{sandbox_port}/")
