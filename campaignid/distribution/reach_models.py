"""Aggregate tables of the reach report (``reach_rollup`` keeps them exact, ``reach`` reads them).

One row per programme, day (UTC, of the delivery's ``created_at``; of the scan for ``verified``) and leaf
org unit (the beneficiary's, "" when none): the hierarchy is summed when the report is read.
"""

from __future__ import annotations

from django.db import models


class _Counts(models.Model):
    """What the report counts per day and leaf org unit (``reach_rollup.STATUS_SETS``)."""

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    org_unit = models.CharField(max_length=11, blank=True)
    pending = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)  # messages (not print) sent, delivered or read
    delivered = models.PositiveIntegerField(default=0)  # messages delivered or read
    read = models.PositiveIntegerField(default=0)
    printed = models.PositiveIntegerField(default=0)  # print: sheet printed (sent, delivered or read)
    handed_over = models.PositiveIntegerField(default=0)  # print: delivered or read
    failed = models.PositiveIntegerField(default=0)  # failed, the "not sent" categories excluded
    not_sent = models.PositiveIntegerField(default=0)  # no phone, opted out

    class Meta:
        abstract = True


class _Failures(models.Model):
    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    org_unit = models.CharField(max_length=11, blank=True)
    category = models.CharField(max_length=40, blank=True)
    failed = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class ReachDay(_Counts):
    verified = models.PositiveIntegerField(default=0)  # online verifications of valid cards that day

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "day", "org_unit"], name="uniq_reach_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.org_unit or '-'}"


class ReachFailure(_Failures):
    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "day", "org_unit", "category"],
                                               name="uniq_reach_failure")]

    def __str__(self) -> str:
        return f"{self.day} {self.org_unit or '-'} {self.category}: {self.failed}"


class ReachPart(_Counts):
    """The counts of one range of delivery ids (``reach_rollup.BUCKET`` ids) per day and leaf org unit. A
    refresh recomputes only the ranges that changed, then sums the parts of their days into ``ReachDay``:
    a campaign of a million deliveries in one day costs a few ranges per minute, not the whole day."""

    bucket = models.BigIntegerField()  # delivery id // BUCKET

    class Meta:
        indexes = [models.Index(fields=["program", "bucket"], name="reach_part_bucket"),
                   models.Index(fields=["program", "day"], name="reach_part_day")]

    def __str__(self) -> str:
        return f"{self.bucket} {self.day} {self.org_unit or '-'}"


class ReachPartFailure(_Failures):
    """Failures by category of one range of delivery ids, per day and leaf org unit (see ``ReachPart``)."""

    bucket = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["program", "bucket"], name="reach_partfail_bucket"),
                   models.Index(fields=["program", "day"], name="reach_partfail_day")]

    def __str__(self) -> str:
        return f"{self.bucket} {self.day} {self.org_unit or '-'} {self.category}: {self.failed}"


class ReachPeople(models.Model):
    """Active beneficiaries per leaf org unit, and those with a usable contact (a phone, not opted out)."""

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+", db_index=False)
    org_unit = models.CharField(max_length=11, blank=True)
    beneficiaries = models.PositiveIntegerField(default=0)
    with_contact = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "org_unit"], name="uniq_reach_people")]

    def __str__(self) -> str:
        return f"{self.org_unit or '-'}: {self.beneficiaries}"


class ReachState(models.Model):
    """How far the rollup of a programme has read: the highest ids seen of deliveries, delivery events and
    card events at the last refresh (``*_mark``) and at the one before (``*_safe``, where the next refresh
    starts again, so that a transaction committed late is still seen)."""

    program = models.OneToOneField("programs.Program", on_delete=models.CASCADE, related_name="+")
    delivery_mark = models.BigIntegerField(default=0)
    delivery_safe = models.BigIntegerField(default=0)
    event_mark = models.BigIntegerField(default=0)
    event_safe = models.BigIntegerField(default=0)
    scan_mark = models.BigIntegerField(default=0)
    scan_safe = models.BigIntegerField(default=0)
    people_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_seconds = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"reach of programme {self.program_id} at {self.refreshed_at}"
