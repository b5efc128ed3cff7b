from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "campaignid.cards"
    label = "cards"
