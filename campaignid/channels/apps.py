from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "campaignid.channels"
    label = "channels"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import checks  # noqa: F401 - registers the system check
        from .config import forget_callback_configs
        from .models import ChannelConfig

        post_save.connect(forget_callback_configs, sender=ChannelConfig, dispatch_uid="callback-configs-save")
        post_delete.connect(forget_callback_configs, sender=ChannelConfig, dispatch_uid="callback-configs-delete")
