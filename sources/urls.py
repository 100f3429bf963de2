from django.urls import path

from sources import views

urlpatterns = [
    path("webhooks/<slug:source_key>/", views.receive_webhook, name="sources-webhook"),
]
