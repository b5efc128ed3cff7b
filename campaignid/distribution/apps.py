from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "campaignid.distribution"
    label = "distribution"

    def ready(self) -> None:
        from campaignid.cards import service as cards
        from campaignid.channels import templates_store

        from . import wallet
        from .tasks import on_card_change
        from .template_guard import check_all_active

        cards.add_change_hook(on_card_change)
        templates_store.add_sync_hook(check_all_active)  # a template gone wrong pauses the batches using it
        # The holder's page shows "Add to Google Wallet" for a card whose pass was issued.
        cards.set_wallet_link_provider(wallet.wallet_link_for_card)
