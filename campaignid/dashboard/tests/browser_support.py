"""What the browser tests need: Debian's chromium, the playwright package, axe-core, a real queue worker.

Missing pieces skip the browser tests with the reason, except under CI=true, where they must run
(``.ci/run`` installs chromium and axe-core)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from campaignid.lib.testing import IN_CI

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"


def _missing(message: str) -> None:
    if IN_CI:
        pytest.fail(message + "; under CI=true the browser tests must run (see .ci/run)")
    pytest.skip(message)


def require_browser() -> None:
    """Skip (or fail under CI) unless chromium, playwright and axe-core are all there."""
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # never let Playwright fetch a browser
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is absent (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[test]')")
    if not AXE.exists():
        _missing(f"{AXE} is absent (npm install --no-save axe-core)")


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def queue_url() -> str:
    storage = settings.HUEY.storage
    return settings.QUEUE_URL if not getattr(storage, "filename", None) else f"sqlite:///{storage.filename}"


def start_worker(sandbox_url: str, public_url: str, log_dir: Path) -> subprocess.Popen:
    """A real ``campaignid worker`` against the test database and queue, as in production."""
    settings.HUEY.flush()
    env = dict(os.environ, DATABASE_URL=database_url(), QUEUE_URL=queue_url(), QUEUE_NAME=settings.QUEUE_NAME,
               SANDBOX_URL=sandbox_url, CAMPAIGNID_SANDBOX="true", CAMPAIGNID_DATA_DIR=str(settings.DATA_DIR),
               CAMPAIGNID_PUBLIC_URL=public_url)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(log_dir / f"worker-{time.monotonic_ns()}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "campaignid.cli", "worker", "--workers", "2"], env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
}"""


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_RUN)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
