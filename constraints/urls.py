from django.urls import path

from constraints import views

urlpatterns = [
    path("", views.dashboard, name="constraints-dashboard"),
]
