from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "campaignid.api"
    label = "api"
