"""``campaignid rotatekeys``: re-encrypt every stored secret with the newest ``CAMPAIGNID_ENCRYPTION_KEYS``
key, so that older keys can then be removed from the list (docs/OPERATIONS.md, "Key rotation")."""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from campaignid.lib.crypto import EncryptedJSONField


def encrypted_fields():
    for model in apps.get_models():
        names = [f.name for f in model._meta.get_fields() if isinstance(f, EncryptedJSONField)]
        if names:
            yield model, names


class Command(BaseCommand):
    help = "Re-encrypt stored provider and DHIS2 secrets with the newest encryption key."

    def handle(self, *args, **options):
        total = 0
        for model, names in encrypted_fields():
            done = 0
            for pk in model.objects.values_list("pk", flat=True).iterator():
                with transaction.atomic():
                    try:
                        row = model.objects.select_for_update().get(pk=pk)
                    except ValueError as exc:
                        raise CommandError(f"{model._meta.label} {pk}: {exc}") from exc
                    values = [getattr(row, name) for name in names]
                    if any(values):
                        row.save(update_fields=names)
                        done += 1
            self.stdout.write(f"{model._meta.label}: {done} re-encrypted")
            total += done
        self.stdout.write(self.style.SUCCESS(f"{total} rows now use the newest key; older keys can be removed."))
