from django.contrib.auth import views as auth_views
from django.urls import path

from . import (
    beneficiaries,
    bulk,
    costs_pages,
    inbox,
    integrations,
    logs_pages,
    overview,
    printing_pages,
    programme_pages,
    tokens,
    views,
    wa_templates,
)
from .audit_pages import audit_page
from .login import LoginView

app_name = "dashboard"

urlpatterns = [
    path("", overview.overview, name="home"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("switch/programme/", views.switch_program, name="switch_program"),
    path("switch/organisation/", views.switch_organisation, name="switch_organisation"),
    path("beneficiaries/", beneficiaries.beneficiary_list, name="beneficiaries"),
    path("beneficiaries/<int:pk>/", beneficiaries.beneficiary_detail, name="beneficiary"),
    path("beneficiaries/<int:pk>/preview/", beneficiaries.preview, name="beneficiary_preview"),
    path("beneficiaries/<int:pk>/send/", beneficiaries.send, name="beneficiary_send"),
    path("distribution/", bulk.distribution_home, name="distribution"),
    path("distribution/new/", bulk.bulk_new, name="bulk_new"),
    path("distribution/review/", bulk.bulk_review, name="bulk_review"),
    path("distribution/start/", bulk.bulk_start, name="bulk_start"),
    path("distribution/batches/<str:batch_id>/", bulk.batch_detail, name="batch"),
    path("distribution/batches/<str:batch_id>/<str:action>/", bulk.batch_control, name="batch_control"),
    path("distribution/batches/<str:batch_id>/sheets.pdf", printing_pages.sheets_download, name="batch_sheets"),
    path("distribution/logs/", logs_pages.logs_page, name="logs"),
    path("distribution/logs/<int:pk>/reprint/", printing_pages.reprint, name="reprint"),
    path("handover/", printing_pages.handover, name="handover"),
    path("distribution/logs/<int:pk>/", logs_pages.delivery_page, name="delivery"),
    path("settings/integrations/", integrations.integrations, name="integrations"),
    path("settings/integrations/dhis2/<str:action>/", integrations.dhis2_action, name="dhis2_action"),
    path("settings/integrations/<str:kind>/save/", integrations.save_channel, name="integration_save"),
    path("settings/integrations/<str:kind>/test/", integrations.test_channel, name="integration_test"),
    path("settings/integrations/<str:kind>/resume/", integrations.resume_channel, name="integration_resume"),
    path("settings/whatsapp-templates/", wa_templates.templates_page, name="wa_templates"),
    path("settings/whatsapp-templates/sync/", wa_templates.sync_now, name="wa_templates_sync"),
    path("settings/whatsapp-templates/<int:pk>/accept/", wa_templates.accept, name="wa_template_accept"),
    path("settings/rate-cards/", costs_pages.rate_cards_page, name="rate_cards"),
    path("settings/rate-cards/<int:pk>/", costs_pages.rate_cards_page, name="rate_card"),
    path("settings/rate-cards/<int:pk>/delete/", costs_pages.delete_card, name="rate_card_delete"),
    path("settings/programmes/", programme_pages.programmes, name="programmes"),
    path("settings/programmes/<int:pk>/logo/", programme_pages.logo, name="programme_logo"),
    path("settings/tokens/", tokens.tokens, name="tokens"),
    path("settings/tokens/<int:pk>/revoke/", tokens.revoke_token, name="revoke_token"),
    path("settings/audit/", audit_page, name="audit"),
    path("sandbox/inbox/", inbox.sandbox_inbox, name="sandbox_inbox"),
]
