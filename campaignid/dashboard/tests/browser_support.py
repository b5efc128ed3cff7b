"""What the browser tests need: Debian's chromium, the playwright package, axe-core, a real queue worker.

Missing pieces skip the browser tests with the reason, except under CI=true, where they must run
(``.ci/run`` installs chromium and axe-core)."""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from campaignid.lib import testing
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


def start_worker(sandbox_url: str, public_url: str, log_dir: Path) -> subprocess.Popen:
    """A real ``campaignid worker`` against the test database and queue, as in production."""
    settings.HUEY.flush()
    return testing.start_worker(log_dir, threads=2, SANDBOX_URL=sandbox_url, CAMPAIGNID_SANDBOX="true",
                                CAMPAIGNID_PUBLIC_URL=public_url)


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


def with_axe(context):
    """Load axe-core into every page of ``context`` as the browser starts it (an init script is not an
    inline script: the pages' strict Content-Security-Policy stays on while they are checked)."""
    context.add_init_script(path=str(AXE))
    return context


def axe_violations(page) -> list[dict]:
    if page.evaluate("typeof axe") == "undefined":
        page.add_script_tag(path=str(AXE))  # pages without a CSP only
    return page.evaluate(AXE_RUN)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def launch_chromium():
    """A generator for a module fixture: Playwright's chromium, stopped after the module."""
    require_browser()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are plain sync code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    pw.stop()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@contextmanager
def launched_chromium():
    """Headless Debian chromium driven by Playwright's sync API; the environment is restored after."""
    require_browser()
    from playwright.sync_api import sync_playwright

    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright keeps an event loop in this thread
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        pw.stop()
        if saved is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved
