from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "campaignid.programs"
    label = "programs"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the public URL check
