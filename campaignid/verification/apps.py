from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "campaignid.verification"
    label = "verification"
