"""Our own sign-in, sign-out and password change, for every active user (what broke 9: the
only login was the admin's, which refuses non-staff accounts)."""

import pytest
from django.contrib.auth import get_user_model

from tests.factories import grant

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


@pytest.fixture
def viewer():
    user = get_user_model().objects.create_user("reader", password=PASSWORD)
    grant(user, "Viewer")
    return user


def sign_in(client, password=PASSWORD, next_url=""):
    return client.post("/login/", {"username": "reader", "password": password, "next": next_url})


def test_a_user_who_is_not_staff_signs_in_and_reads_the_page(client, viewer):
    page = client.get("/login/")
    assert page.status_code == 200 and b'href="/static/css/app' in page.content
    response = sign_in(client, next_url="/?period=7")
    assert response.status_code == 302 and response.url == "/?period=7"
    assert client.get("/").status_code == 200


def test_the_admin_keeps_its_own_login_and_refuses_non_staff(client, viewer):
    response = client.post("/admin/login/", {"username": "reader", "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_it_never_redirects_off_site(client, viewer):
    response = sign_in(client, next_url="https://evil.example/")
    assert response.status_code == 302 and response.url == "/"


def test_failed_logins_are_throttled(client, viewer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200
    assert sign_in(client, "wrong").status_code == 429
    assert sign_in(client).status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_signs_out_on_post_only(client, viewer):
    client.force_login(viewer)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302 and response.url == "/login/"
    assert "_auth_user_id" not in client.session


def test_a_user_changes_their_password(client, viewer):
    client.force_login(viewer)
    assert client.get("/password/").status_code == 200
    response = client.post(
        "/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a new long pass 42",
            "new_password2": "a new long pass 42",
        },
    )
    assert response.status_code == 302 and response.url == "/password/done/"
    viewer.refresh_from_db()
    assert viewer.check_password("a new long pass 42")
    assert client.get("/").status_code == 200  # this session stays signed in


def test_changing_a_password_needs_a_login(client):
    response = client.get("/password/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_a_signed_in_user_without_a_role_cannot_read_the_page(client):
    client.force_login(get_user_model().objects.create_user("nobody", password=PASSWORD))
    assert client.get("/").status_code == 403
    assert client.get("/dashboard.csv").status_code == 403
