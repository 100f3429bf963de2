from django.urls import path

from constraints import views

urlpatterns = [
    path("", views.dashboard, name="constraints-dashboard"),
    path("favicon.ico", views.favicon, name="constraints-favicon"),
    path("dashboard.csv", views.dashboard_csv, name="constraints-dashboard-csv"),
    path(
        "decisions/<int:pk>/approve",
        views.decision_approve,
        name="constraints-decision-approve",
    ),
    path("decisions/<int:pk>/reject", views.decision_reject, name="constraints-decision-reject"),
    path(
        "alerts/<int:pk>/acknowledge",
        views.alert_acknowledge,
        name="constraints-alert-acknowledge",
    ),
    path("alerts/<int:pk>/snooze", views.alert_snooze, name="constraints-alert-snooze"),
]
