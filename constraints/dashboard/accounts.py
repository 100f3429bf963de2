"""Signing in, out and changing one's password, for every active user (not only staff: the
admin's own login refuses non-staff accounts). Django's auth views with our templates; failed
logins are throttled by django-axes (constraints.throttle), which answers 429 when locked."""

from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

login = auth_views.LoginView.as_view(
    template_name="registration/login.html", redirect_authenticated_user=True
)
logout = auth_views.LogoutView.as_view()  # POST only (Django 5): a link cannot log anyone out
password_change = auth_views.PasswordChangeView.as_view(
    template_name="registration/password_change_form.html",
    success_url=reverse_lazy("constraints-password-change-done"),
)
password_change_done = auth_views.PasswordChangeDoneView.as_view(
    template_name="registration/password_change_done.html"
)
