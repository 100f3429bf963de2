import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def user():
    return get_user_model().objects.create_superuser("founder", "", PASSWORD)


def attempt(client, password: str):
    return client.post(LOGIN, {"username": "founder", "password": password, "next": "/admin/"})


def test_it_locks_out_after_repeated_failures_even_with_the_right_password(client, user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "wrong").status_code == 200
    assert attempt(client, "wrong").status_code == 429
    response = attempt(client, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_lets_a_person_in_after_a_few_typos(client, user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "wrong")
    response = attempt(client, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_code_can_still_log_in_without_a_request(client, user):
    assert client.login(username="founder", password=PASSWORD)
