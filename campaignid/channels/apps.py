from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "campaignid.channels"
    label = "channels"

    def ready(self) -> None:
        from campaignid.cards import service as cards

        from . import checks  # noqa: F401 - registers the system check
        from .tasks import on_card_change

        cards.add_change_hook(on_card_change)
