from django.urls import path

from constraints import views

urlpatterns = [
    path("", views.dashboard, name="constraints-dashboard"),
    path(
        "alerts/<int:pk>/acknowledge/",
        views.acknowledge_alert,
        name="constraints-alert-acknowledge",
    ),
    path("alerts/<int:pk>/snooze/", views.snooze_alert, name="constraints-alert-snooze"),
]
