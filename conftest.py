"""Fixtures shared by every app's tests."""

from __future__ import annotations

import json

import pytest

from campaignid.sandbox.server import SandboxThread
from campaignid.sandbox.testing import control as sandbox_control


def _remove_stale_test_database():
    """A test database left by an interrupted run (a killed worker process) can leave its ``-wal`` and
    ``-shm`` files behind: SQLite would apply that old journal to the newly created test database and
    answer "disk I/O error". Remove this process's test database files before they are created again."""
    import os
    from pathlib import Path

    data = Path(os.environ.get("CAMPAIGNID_DATA_DIR", "var")).resolve()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = "test.sqlite3" + (f"_{worker}" if worker else "")
    for suffix in ("", "-wal", "-shm", "-journal"):
        (data / (name + suffix)).unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def _test_settings(settings, request):
    """Test users need no slow key derivation. Provider callbacks are applied inside the webhook request
    so tests can assert right after posting; tests marked ``buffered_intake`` exercise the default
    (store, then apply in a worker)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from campaignid.channels.config import forget_callback_configs
    from campaignid.distribution import limits

    forget_callback_configs()
    limits.forget()  # messaging limits read from one test's sandbox never leak into the next
    if request.node.get_closest_marker("buffered_intake") is None:
        settings.STATUS_INTAKE = "inline"
    from django.db import connections

    # A live server answers each request on a new thread: with persistent connections every webhook would
    # leave a PostgreSQL connection open (max_connections is shared); close them at the end of each request.
    database = connections.databases["default"]
    kept = database.get("CONN_MAX_AGE", 0)
    if connections["default"].vendor == "postgresql":
        database["CONN_MAX_AGE"] = 0
    yield
    database["CONN_MAX_AGE"] = kept
    _forget_redis_counters(settings)


def _forget_redis_counters(settings) -> None:
    """Rate-limit and login counters kept in Redis outlive the test's database: drop them after each test."""
    if settings.QUEUE_URL.startswith(("redis://", "rediss://")):
        from campaignid.lib import counters

        counters.forget_all()


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory):
    """The provider sandboxes on a real TCP port for the whole test session."""
    server = SandboxThread(tmp_path_factory.mktemp("sandbox")).start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server):
    """A running sandbox, reset before each test and after it (so no late webhook of one test reaches the
    live server while the next test's database is being set up)."""
    sandbox_control(sandbox_server, "/reset")
    yield sandbox_server
    sandbox_control(sandbox_server, "/reset")


@pytest.fixture
def client():
    """Django's test client, routed as ``campaignid.wsgi`` routes real requests: provider callbacks
    (``/webhooks/…``) through the short receipt middleware chain, everything else through the full stack."""
    from django.test import Client
    from django.test.client import ClientHandler

    from campaignid.lib.receipts_handler import RECEIPT_PREFIX, ReceiptHandler

    class ReceiptClientHandler(ClientHandler):
        load_middleware = ReceiptHandler.load_middleware

    class RoutedClient(Client):
        def __init__(self, **kwargs) -> None:
            super().__init__(**kwargs)
            self.dashboard_handler, self.receipt_handler = self.handler, ReceiptClientHandler()

        def request(self, **request):
            receipt = request.get("PATH_INFO", "").startswith(RECEIPT_PREFIX)
            self.handler = self.receipt_handler if receipt else self.dashboard_handler
            return super().request(**request)

    return RoutedClient()


@pytest.fixture
def make_org(db):
    from campaignid.programs.models import Organisation, Program

    def make(slug: str = "org-a", prefix: str = "AAA-VAC", uid: str = "IpHINAT79UW", **program_kw):
        org, _ = Organisation.objects.get_or_create(slug=slug, defaults={"name": slug.upper()})
        program = Program.objects.create(organisation=org, name=f"Programme {prefix}", dhis2_program_uid=uid,
                                         code_prefix=prefix, **program_kw)
        return org, program

    return make


@pytest.fixture
def make_beneficiary(db):
    from campaignid.programs.models import Beneficiary

    counter = {"n": 0}

    def make(program, **kw):
        counter["n"] += 1
        n = counter["n"]
        defaults = {"enrollment_id": f"ENR{n:05d}", "first_name": "Aminata", "last_name": "Diallo",
                    "phone": f"+2217712{n:05d}", "source": "manual"}
        defaults.update(kw)
        return Beneficiary.objects.create(program=program, **defaults)

    return make


@pytest.fixture
def make_token(db, django_user_model):
    from campaignid.programs.models import ApiToken, Membership

    def make(org, role: str = Membership.ADMIN, programs=(), username: str | None = None):
        user = django_user_model.objects.create_user(username or f"user-{org.slug}-{role}", password="pw-123456789")
        Membership.objects.create(user=user, organisation=org, role=role)
        _, clear = ApiToken.issue(user, org, "test", programs)
        return clear

    return make


@pytest.fixture
def api_client(client):
    """Django test client with a helper for bearer calls."""

    def call(method: str, path: str, token: str | None = None, body=None, **headers):
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        if token:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        fn = getattr(client, method.lower())
        if body is not None:
            return fn(path, data=json.dumps(body), content_type="application/json", **extra)
        return fn(path, **extra)

    return call


@pytest.fixture
def sandbox_settings(settings, sandbox):
    """Channels configured on their sandbox defaults, pointing at the running sandbox."""
    settings.CAMPAIGNID_SANDBOX = True
    settings.SANDBOX_URL = sandbox.url
    settings.CAMPAIGNID_PUBLIC_URL = "https://cards.example.org"
    return sandbox


@pytest.fixture
def inline_queue(settings):
    """Run queue tasks inline (Huey immediate mode) for the duration of a test."""
    from campaignid.distribution import compose

    huey = settings.HUEY
    huey.immediate = True
    compose.clear_cache()
    yield huey
    huey.immediate = False
    compose.clear_cache()


# --- the fault suite's one-line summaries (tests/faults) ---------------------------------------------
def pytest_sessionstart(session):
    _remove_stale_test_database()
    if hasattr(session.config, "workerinput"):
        return
    from tests.faults.harness import summary_file

    path = summary_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")


def pytest_terminal_summary(terminalreporter):
    from tests.faults.harness import summary_file

    path = summary_file()
    if path.exists() and path.read_text().strip():
        terminalreporter.section("fault scenarios")
        for line in path.read_text().splitlines():
            terminalreporter.write_line(line)
