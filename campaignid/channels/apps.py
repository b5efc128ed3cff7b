from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "campaignid.channels"
    label = "channels"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system check
