import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEFAULT_USERNAME = "admin"


class Command(BaseCommand):
    help = (
        "Create the first admin user unless a superuser exists: DJANGO_SUPERUSER_USERNAME and "
        "DJANGO_SUPERUSER_PASSWORD from the environment, or a generated password printed once."
    )

    def handle(self, *args, **options) -> None:
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            self.stdout.write("An admin user already exists; nothing changed.")
            return
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME") or DEFAULT_USERNAME
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        generated = not password
        password = password or secrets.token_urlsafe(12)
        users.create_superuser(username=username, email="", password=password)
        if generated:
            self.stdout.write(
                f"Created admin user {username!r} with password {password} (shown only once)."
            )
        else:
            self.stdout.write(f"Created admin user {username!r} (password from the environment).")
