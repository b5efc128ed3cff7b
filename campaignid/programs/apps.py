from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "campaignid.programs"
    label = "programs"
