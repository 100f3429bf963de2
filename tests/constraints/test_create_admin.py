import io
import re

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def run() -> str:
    out = io.StringIO()
    call_command("create_admin", stdout=out)
    return out.getvalue()


def test_it_creates_the_admin_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "founder")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "from-the-env-123")
    output = run()
    assert "from-the-env-123" not in output
    assert authenticate(username="founder", password="from-the-env-123").is_superuser


def test_it_generates_a_password_prints_it_once_and_never_duplicates(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    password = re.search(r"with password (\S+)", run()).group(1)
    assert authenticate(username="admin", password=password)
    assert "already exists" in run()
    assert get_user_model().objects.count() == 1
