from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "campaignid.cards"
    label = "cards"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the signing key check
