from django.urls import path

from . import views

app_name = "cards"

urlpatterns = [
    path("cards/<str:code>/revoke/", views.revoke, name="revoke"),
    path("cards/<str:code>/reissue/", views.reissue, name="reissue"),
]
