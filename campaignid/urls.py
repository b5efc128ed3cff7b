from django.contrib import admin
from django.urls import include, path

from campaignid.api.api import api
from campaignid.api.views import health
from campaignid.ops.views import metrics

urlpatterns = [
    path("health", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("campaignid.distribution.urls")),
    path("", include("campaignid.dashboard.urls")),
    path("", include("campaignid.verification.urls")),
    path("", include("campaignid.cards.urls")),
    path("", api.urls),
]

handler404 = "campaignid.api.views.not_found"
handler500 = "campaignid.api.views.server_error"
