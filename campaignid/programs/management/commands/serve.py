"""``campaignid serve``: migrate, create the demo on first run, then run the web server (gunicorn),
one queue consumer and the provider sandboxes until Ctrl-C, which stops all of them cleanly."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from campaignid.programs.demo import bootstrap


class Command(BaseCommand):
    help = "Run CampaignID on one machine: web server, one queue consumer and (by default) the sandboxes."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("CAMPAIGNID_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("CAMPAIGNID_PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
        parser.add_argument("--no-worker", action="store_true", help="do not start a queue consumer")
        parser.add_argument("--no-sandbox", action="store_true", help="do not start the sandboxes")

    def handle(self, *args, host, port, web_workers, no_worker, no_sandbox, **options):
        call_command("migrate", interactive=False, verbosity=0)
        password = None if settings.PRODUCTION else bootstrap()  # production: no demo account, no demo data
        if settings.PRODUCTION and not get_user_model().objects.exists():
            self.stdout.write("No user yet: create the first administrator with `campaignid createsuperuser`.")
        if password:
            self.stdout.write(self.style.SUCCESS(
                f"First run: demo administrator created.\n  user: admin\n  password: {password}\n"
                "  (shown once; change it in the dashboard: My password; invite your team in Settings > Users)"))
        env = self._child_env(host, port)
        self._warn_public_url(env, host, port)
        children = []
        if settings.CAMPAIGNID_SANDBOX and not no_sandbox:
            sandbox = urlparse(settings.SANDBOX_URL)
            children.append(self._spawn("sandbox", [
                "sandbox", "--host", sandbox.hostname or "127.0.0.1", "--port", str(sandbox.port or 8900)], env))
        if not no_worker:
            children.append(self._spawn("worker", ["worker", "--workers", "4"], env))
        children.append(self._spawn("web", None, env, gunicorn=[
            "campaignid.wsgi:application", "--bind", f"{host}:{port}", "--workers", str(web_workers),
            "--threads", "8", "--worker-class", "gthread", "--timeout", str(settings.REQUEST_TIME_LIMIT_SECONDS),
            "--graceful-timeout", "10",
            "--log-level", "warning"]))
        self._wait_ready(f"http://{host}:{port}/health", children)
        if settings.CAMPAIGNID_SANDBOX and not no_sandbox:
            self._wait_ready(f"{settings.SANDBOX_URL}/control/pending", children)
            if password:
                self._import_demo()
        self.stdout.write(self.style.SUCCESS(f"CampaignID is running at http://{host}:{port}/  (Ctrl-C to stop)"))
        if settings.CAMPAIGNID_SANDBOX and not no_sandbox:
            self.stdout.write(f"Sandbox providers and inbox: {settings.SANDBOX_URL}/")
        self._supervise(children)

    def _import_demo(self) -> None:
        """First run: the demo programme's beneficiaries come from the sandbox DHIS2, as in production."""
        from campaignid.dhis2.demo import import_demo
        from campaignid.programs.models import Program

        program = Program.objects.filter(dhis2_program_uid="IpHINAT79UW").first()
        try:
            run = import_demo(program)
        except Exception as exc:  # the service is usable without the demo data
            self.stderr.write(f"Demo import from the sandbox DHIS2 failed: {exc}")
            return
        self.stdout.write(f"Demo programme imported from the sandbox DHIS2: {run.created} beneficiaries.")

    def _child_env(self, host: str, port: int) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "campaignid.settings")
        env.setdefault("CAMPAIGNID_DATA_DIR", str(settings.DATA_DIR))
        base = f"http://{host}:{port}"
        env["CAMPAIGNID_HOST"], env["CAMPAIGNID_PORT"] = host, str(port)  # the children's default public URL
        # The sandboxes call the service back (signed WhatsApp statuses, Orange receipts).
        env.setdefault("SANDBOX_WHATSAPP_WEBHOOK_URL", f"{base}/webhooks/whatsapp")
        env.setdefault("SANDBOX_ORANGE_DR_URL", f"{base}/webhooks/orange-sms/sandbox")
        if "PROMETHEUS_MULTIPROC_DIR" not in env:  # every child's samples, summed by /metrics
            metrics_dir = settings.DATA_DIR / "metrics"
            shutil.rmtree(metrics_dir, ignore_errors=True)  # samples of a previous run are not this run's
            metrics_dir.mkdir(parents=True)
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        return env

    def _warn_public_url(self, env: dict, host: str, port: int) -> None:
        from campaignid.programs.checks import public_url_problem

        public = env.get("CAMPAIGNID_PUBLIC_URL")
        problem = public_url_problem(public, host, port) if public else ""
        if problem:
            self.stderr.write(self.style.WARNING(problem))

    def _spawn(self, name: str, args: list[str] | None, env: dict, gunicorn: list[str] | None = None):
        if gunicorn is not None:
            cmd = [sys.executable, "-m", "gunicorn", *gunicorn]
        else:
            cmd = [sys.executable, "-m", "campaignid.cli", *args]
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)  # noqa: S603 - our own commands
        proc.name = name
        return proc

    def _wait_ready(self, url: str, children, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for child in children:
                if child.poll() is not None:
                    self._stop(children)
                    raise SystemExit(f"{child.name} exited with code {child.returncode} during start-up.")
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - our own local URL
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self._stop(children)
        raise SystemExit(f"{url} did not answer within {timeout:.0f} s.")

    def _supervise(self, children) -> None:
        stopping = False

        def on_signal(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    self.stderr.write(f"{child.name} exited with code {child.returncode}; stopping.")
                    stopping = True
            time.sleep(0.5)
        self._stop(children)
        self.stdout.write("Stopped.")

    @staticmethod
    def _stop(children) -> None:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
