from django.urls import path

from .webhooks import channel_webhook

urlpatterns = [
    path("webhooks/whatsapp", channel_webhook, {"kind": "whatsapp"}, name="webhook_whatsapp"),
    path("webhooks/orange-sms/<str:token>", channel_webhook, {"kind": "sms"}, name="webhook_orange_sms"),
]
