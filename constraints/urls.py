from django.urls import path

from constraints import views

urlpatterns = [
    path("", views.dashboard, name="constraints-dashboard"),
    path("healthz", views.healthz, name="constraints-healthz"),
]
