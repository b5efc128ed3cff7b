from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: Prometheus metrics, retention of personal data, bounded caches. Only the edges
    (URLs, periodic tasks) import it."""

    name = "campaignid.ops"
    label = "ops"
    verbose_name = "Operations"
