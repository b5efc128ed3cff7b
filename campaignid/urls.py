from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from campaignid.api.api import api
from campaignid.api.views import health
from campaignid.ops.views import metrics

urlpatterns = [
    path("health", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("favicon.ico", RedirectView.as_view(url=static("campaignid/favicon.svg"), permanent=True), name="favicon"),
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
