from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "campaignid.distribution"
    label = "distribution"
