from django.apps import AppConfig


class Dhis2Config(AppConfig):
    name = "campaignid.dhis2"
    label = "dhis2"
