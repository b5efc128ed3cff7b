from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "campaignid.ops"
    label = "ops"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the login and token receivers
