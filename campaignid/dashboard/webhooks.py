"""The exact callback URLs an administrator registers with each provider, shown in Settings > Integrations."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _


def url_for(kind: str, info: dict) -> dict | None:
    """{"url", "where"} for channels with status callbacks; None otherwise. Secrets stay out of the page:
    the Orange URL ends with a placeholder for the receipt secret."""
    base = settings.CAMPAIGNID_PUBLIC_URL.rstrip("/")
    if kind == "whatsapp":
        return {"url": base + reverse("webhook_whatsapp"),
                "where": _("Meta: your app > WhatsApp > Configuration > Webhook. Paste this callback URL and the "
                           "webhook verify token set below, then subscribe to the fields messages, "
                           "message_template_status_update and message_template_quality_update.")}
    if kind == "sms":
        return {"url": base + reverse("webhook_orange_sms", args=["SECRET"]).replace("SECRET", "<secret>"),
                "where": _("Orange: delivery receipts (DR) subscription of each country's contract, notifyURL. "
                           "Replace <secret> with the delivery receipt secret set below.")}
    return None
