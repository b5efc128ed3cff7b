"""Process metrics (Prometheus) that the hot path observes: one histogram of provider send latency.

Under ``campaignid serve`` every process (gunicorn workers, queue consumers) writes its samples to
``PROMETHEUS_MULTIPROC_DIR``, and ``/metrics`` sums them (prometheus_client's multiprocess mode). Without
that variable the samples stay in the process that observed them.
"""

from __future__ import annotations

from prometheus_client import Histogram

SEND_SECONDS = Histogram(
    "campaignid_send_seconds", "Time a provider took to answer one send request.",
    ["channel", "outcome"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def observe_send(channel: str, seconds: float, ok: bool) -> None:
    SEND_SECONDS.labels(channel, "accepted" if ok else "refused").observe(seconds)
