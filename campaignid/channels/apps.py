from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "campaignid.channels"
    label = "channels"
