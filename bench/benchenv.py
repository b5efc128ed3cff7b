"""Shared set-up for benchmarks that need the service: a throw-away data directory and database, and the
provider sandboxes in their own process (so their CPU does not count against ours)."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict:
    """What a recorded figure was measured on: CPU model, cores, Python."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown")
    return {"cpu": model, "cores": os.cpu_count(), "python": sys.version.split()[0],
            "load_average_at_start": round(os.getloadavg()[0], 2)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup_django(keep_database: bool = False) -> Path:
    """Point the service at a fresh data directory (SQLite, unless DATABASE_URL is set) and migrate."""
    data = Path(tempfile.mkdtemp(prefix="campaignid-bench-"))
    if not keep_database:
        atexit.register(shutil.rmtree, data, True)
    os.environ["CAMPAIGNID_DATA_DIR"] = str(data)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
    os.environ.setdefault("CAMPAIGNID_PUBLIC_URL", "https://cards.example.org")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return data


def start_sandbox(env: dict[str, str] | None = None) -> str:
    """Start `campaignid sandbox` in its own process; returns its URL. Stopped at exit."""
    port = _free_port()
    data = tempfile.mkdtemp(prefix="campaignid-bench-sandbox-")
    proc = subprocess.Popen([sys.executable, "-m", "campaignid.sandbox", "--port", str(port), "--data-dir", data],
                            env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(proc.terminate)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/control/pending", timeout=1).read()
            return url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the sandbox did not start")


def control(url: str, path: str, payload=None, method: str = "POST"):
    import json

    req = urllib.request.Request(url + "/control" + path, method=method, data=json.dumps(payload or {}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")
