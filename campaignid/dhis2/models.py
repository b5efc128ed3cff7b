"""DHIS2 connection per organisation, sync schedule and state per programme, and the record of each run."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaignid.lib.crypto import EncryptedJSONField

INTERVALS = [(10, "10 min"), (15, "15 min"), (30, "30 min"), (60, "1 h"), (180, "3 h")]


class Connection(models.Model):
    """How an organisation reaches its DHIS2. ``secrets`` ({"password"} or {"token"}) is encrypted at rest
    and never returned by the API or shown in the dashboard."""

    BASIC, TOKEN = "basic", "token"
    AUTH_KINDS = [(BASIC, _("username and password")), (TOKEN, _("personal access token"))]

    organisation = models.OneToOneField("programs.Organisation", on_delete=models.CASCADE,
                                        related_name="dhis2_connection")
    url = models.URLField(_("DHIS2 URL"), max_length=300)
    auth = models.CharField(max_length=10, choices=AUTH_KINDS, default=BASIC)
    username = models.CharField(_("username"), max_length=150, blank=True)
    secrets = EncryptedJSONField(blank=True, default=dict)
    org_units = models.JSONField(default=list, blank=True,
                                 help_text=_("Root org units to read; empty: the account's own."))
    dhis2_version = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=20, default="configured")
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.organisation} → {self.url}"


class ProgrammeSync(models.Model):
    """Per programme: the schedule, the incremental cursor and the run lock.

    The lock is a lease: ``locked_until`` is pushed forward after each page, so a killed worker's lock
    expires on its own (``DHIS2_LOCK_SECONDS``) and the next run can start."""

    program = models.OneToOneField("programs.Program", on_delete=models.CASCADE, related_name="dhis2_sync")
    enabled = models.BooleanField(default=False)
    interval_minutes = models.PositiveSmallIntegerField(choices=INTERVALS, default=60)
    auto_generate_cards = models.BooleanField(default=False)
    next_sync_at = models.DateTimeField(null=True, blank=True)
    cursor = models.CharField(max_length=40, blank=True, help_text=_("DHIS2 server time; next updatedAfter."))
    locked_by = models.BigIntegerField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["enabled", "next_sync_at"], name="dhis2_sync_due")]

    def __str__(self) -> str:
        return f"sync {self.program}"


class SyncRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCESS = "success"
        PARTIAL = "partial"
        FAILED = "failed"

    class Trigger(models.TextChoices):
        MANUAL = "manual"
        SCHEDULED = "scheduled"
        CLI = "cli"

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="dhis2_runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    triggered_by = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    full = models.BooleanField(default=False)
    actor = models.CharField(max_length=100, blank=True)
    dhis2_version = models.CharField(max_length=40, blank=True)
    api = models.CharField(max_length=20, blank=True)
    cursor = models.CharField(max_length=40, blank=True, help_text=_("updatedAfter sent (empty: full)."))
    next_cursor = models.CharField(max_length=40, blank=True, help_text=_("Cursor saved for the next run."))
    pages = models.PositiveIntegerField(default=0)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    phones_unparsable = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["program", "status"], name="dhis2_run_prog_status")]

    def __str__(self) -> str:
        return f"sync run {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCESS, self.Status.PARTIAL, self.Status.FAILED)
