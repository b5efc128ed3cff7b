"""``/metrics``: what an operator's Prometheus scrapes.

Two kinds of figures:
- read from the database at scrape time (the deliveries table is the source of truth, so these are
  exact whichever process or host did the work): deliveries by channel, status and failure category,
  the due backlog, batches by state, paused provider accounts, the webhook intake backlog and its lag;
  plus the queue's depth read from Huey's storage;
- observed by the processes themselves (send latency per provider, ``campaignid.lib.metrics``), summed
  across processes with prometheus_client's multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set.

No beneficiary, phone number or organisation name appears in any label.
"""

from __future__ import annotations

import logging
import os

from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger("campaignid.ops")


def _deliveries() -> GaugeMetricFamily:
    from campaignid.distribution.models import Delivery

    family = GaugeMetricFamily("campaignid_deliveries", "Deliveries by channel, status and failure category.",
                               labels=["channel", "status", "category"])
    rows = (Delivery.objects.order_by().values_list("channel", "status", "error_category")
            .annotate(n=Count("id")))
    for channel, status, category, n in rows:
        family.add_metric([channel, status, category or ""], n)
    return family


def _backlog(now) -> list[GaugeMetricFamily]:
    from campaignid.distribution.models import Batch, Delivery, StatusInbox

    due = Delivery.objects.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
                                  status="pending", next_attempt_at__lte=now).count()
    claimed = Delivery.objects.filter(status="pending", claimed_until__gte=now).count()
    inbox = StatusInbox.objects.aggregate(n=Count("id"), oldest=Min("received_at"))
    lag = (now - inbox["oldest"]).total_seconds() if inbox["oldest"] else 0.0
    batches = GaugeMetricFamily("campaignid_batches", "Bulk distributions by state.", labels=["state"])
    for state, n in Batch.objects.order_by().values_list("state").annotate(n=Count("id")):
        batches.add_metric([state], n)
    return [
        GaugeMetricFamily("campaignid_due_backlog", "Pending deliveries due now and not claimed by a worker.",
                          value=due),
        GaugeMetricFamily("campaignid_claimed_deliveries", "Pending deliveries held by a worker right now.",
                          value=claimed),
        GaugeMetricFamily("campaignid_webhook_intake_backlog", "Provider callbacks stored, not yet applied.",
                          value=inbox["n"]),
        GaugeMetricFamily("campaignid_webhook_intake_lag_seconds",
                          "Age of the oldest provider callback not yet applied.", value=lag),
        batches,
    ]


def _paused(now) -> GaugeMetricFamily:
    from campaignid.channels.models import ChannelConfig

    family = GaugeMetricFamily("campaignid_paused_accounts", "Provider accounts paused after a refusal.",
                               labels=["channel"])
    for channel, n in (ChannelConfig.objects.filter(paused_until__gt=now).order_by()
                       .values_list("channel").annotate(n=Count("id"))):
        family.add_metric([channel], n)
    return family


def _queue_depth() -> GaugeMetricFamily | None:
    from django.conf import settings

    try:
        depth = settings.HUEY.pending_count()
    except Exception as exc:  # the queue's storage is down: say so by leaving the figure out
        log.warning("queue depth unavailable: %s", type(exc).__name__)
        return None
    return GaugeMetricFamily("campaignid_queue_depth", "Tasks waiting in the queue.", value=depth)


class DatabaseCollector:
    """Reads the figures above at each scrape."""

    def collect(self):
        now = timezone.now()
        yield _deliveries()
        yield from _backlog(now)
        yield _paused(now)
        depth = _queue_depth()
        if depth is not None:
            yield depth

    def describe(self):  # no describe-time queries: registering must not touch the database
        return []


def exposition() -> bytes:
    """The text format of every figure, process metrics summed across processes when configured."""
    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry.register(_Forward(REGISTRY))
    return generate_latest(registry)


class _Forward:
    """This process's own metrics (send latency) when there is no multiprocess directory."""

    def __init__(self, source) -> None:
        self.source = source

    def collect(self):
        for family in self.source.collect():
            if family.name.startswith("campaignid_"):
                yield family

    def describe(self):
        return []
