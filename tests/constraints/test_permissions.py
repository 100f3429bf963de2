"""One query for what a user may do: their own permissions and their groups' together."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from constraints.permissions import OneQueryPermissions

pytestmark = pytest.mark.django_db


def permission(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="constraints", codename=codename)


@pytest.fixture
def approver_by_group_and_own():
    user = get_user_model().objects.create_user(username="ana", password="pw")
    group = Group.objects.create(name="Approvers")
    group.permissions.add(permission("approve_decision"), permission("view_dashboard"))
    user.groups.add(group)
    user.user_permissions.add(permission("acknowledge_alert"), permission("view_dashboard"))
    return get_user_model().objects.get(pk=user.pk)


def test_it_reads_a_users_and_their_groups_permissions_in_one_query(approver_by_group_and_own):
    with CaptureQueriesContext(connection) as queries:
        found = OneQueryPermissions().get_all_permissions(approver_by_group_and_own)
        assert approver_by_group_and_own.has_perm("constraints.approve_decision")
    assert found == {
        "constraints.approve_decision",
        "constraints.acknowledge_alert",
        "constraints.view_dashboard",
    }
    assert len(queries) == 1


def test_it_leaves_model_backend_nothing_to_read_for_a_permission_the_user_lacks(
    approver_by_group_and_own,
):
    with CaptureQueriesContext(connection) as queries:
        assert not approver_by_group_and_own.has_perm("constraints.change_rule")
        assert approver_by_group_and_own.has_module_perms("constraints")
    assert len(queries) == 1


def test_it_keeps_sessions_signed_in_by_model_backend(client, approver_by_group_and_own):
    client.force_login(
        approver_by_group_and_own, backend="django.contrib.auth.backends.ModelBackend"
    )
    assert client.get("/").status_code == 200


def test_it_answers_as_djangos_model_backend_does(approver_by_group_and_own):
    other = get_user_model().objects.create_user(username="bo", password="pw")
    boss = get_user_model().objects.create_superuser(username="boss", password="pw")
    gone = get_user_model().objects.create_user(username="gone", password="pw", is_active=False)
    gone.user_permissions.add(permission("view_dashboard"))
    for user in (approver_by_group_and_own, other, boss, gone):
        fresh = get_user_model().objects.get(pk=user.pk)
        expected = ModelBackend().get_all_permissions(get_user_model().objects.get(pk=user.pk))
        assert OneQueryPermissions().get_all_permissions(fresh) == expected, user.username
    assert len(OneQueryPermissions().get_all_permissions(boss)) == Permission.objects.count()
