from django.contrib.auth import views as auth_views
from django.urls import path

from . import tokens, views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="dashboard/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("switch/programme/", views.switch_program, name="switch_program"),
    path("switch/organisation/", views.switch_organisation, name="switch_organisation"),
    path("beneficiaries/", views.placeholder, {"page": "beneficiaries"}, name="beneficiaries"),
    path("distribution/", views.placeholder, {"page": "distribution"}, name="distribution"),
    path("distribution/logs/", views.placeholder, {"page": "logs"}, name="logs"),
    path("settings/integrations/", views.placeholder, {"page": "integrations"}, name="integrations"),
    path("settings/tokens/", tokens.tokens, name="tokens"),
    path("settings/tokens/<int:pk>/revoke/", tokens.revoke_token, name="revoke_token"),
]
