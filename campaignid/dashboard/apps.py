from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "campaignid.dashboard"
    label = "dashboard"
