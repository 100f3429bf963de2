from django.urls import path

from constraints.dashboard import accounts, constraint_views, slack, views

urlpatterns = [
    path("login/", accounts.login, name="constraints-login"),
    path("logout/", accounts.logout, name="constraints-logout"),
    path("password/", accounts.password_change, name="constraints-password-change"),
    path("password/done/", accounts.password_change_done, name="constraints-password-change-done"),
    path("", views.dashboard, name="constraints-dashboard"),
    path("favicon.ico", views.favicon, name="constraints-favicon"),
    path("dashboard.csv", views.dashboard_csv, name="constraints-dashboard-csv"),
    path("healthz", views.healthz, name="constraints-healthz"),
    path(
        "decisions/<int:pk>/approve/",
        views.approve_decision,
        name="constraints-decision-approve",
    ),
    path(
        "decisions/approve-all/",
        views.approve_all_decisions,
        name="constraints-decision-approve-all",
    ),
    path(
        "decisions/<int:pk>/reject/",
        views.reject_decision,
        name="constraints-decision-reject",
    ),
    path(
        "alerts/<int:pk>/acknowledge/",
        views.acknowledge_alert,
        name="constraints-alert-acknowledge",
    ),
    path("alerts/<int:pk>/snooze/", views.snooze_alert, name="constraints-alert-snooze"),
    path("alerts/<int:pk>/reopen/", views.reopen_alert, name="constraints-alert-reopen"),
    path("slack/interactions/", slack.slack_interactions, name="constraints-slack-interactions"),
    path("constraints/", constraint_views.constraints, name="constraints-list"),
    path("constraints/<int:pk>/", constraint_views.constraint_page, name="constraints-page"),
    path(
        "constraints/<int:pk>/activate/",
        constraint_views.constraint_activate,
        name="constraints-activate",
    ),
    path("constraints/switch/", constraint_views.switch, name="constraints-switch"),
    path(
        "constraints/switch/confirm/",
        constraint_views.switch_confirm,
        name="constraints-switch-confirm",
    ),
]
