from django.urls import path

from . import views

app_name = "verification"

urlpatterns = [
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path(".well-known/revocations", views.revocation_list, name="revocations"),
    path(".well-known/verification-rules", views.verification_rules, name="rules"),
    path("verify/", views.verifier, name="verifier"),
    path("v", views.verifier, name="verifier_short"),
    path("verify/sw.js", views.verifier_worker, name="service_worker"),
    path("verify/manifest.webmanifest", views.verifier_manifest, name="manifest"),
    path("c/", views.lookup, name="lookup"),
    path("c/<str:code>", views.card_page, name="card"),
    path("c/<str:code>/card.png", views.card_image, name="card_image"),
    path("h/<str:code>", views.household_page, name="household"),
    path("h/<str:code>/cards.pdf", views.household_pdf, name="household_pdf"),
    path("logos/<str:stem>.png", views.programme_logo, name="logo"),
]
