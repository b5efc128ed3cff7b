from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: audit events, login throttling, shared counters, security headers, Prometheus metrics,
    retention of personal data, bounded caches."""

    name = "campaignid.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401 - registers the autovacuum check, connects the login receivers
