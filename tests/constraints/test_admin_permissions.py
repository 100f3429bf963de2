"""The admin checks each act's permission, not is_staff (what broke 3: a staff user with no
permissions could stop all automation by adding the kill-switch row)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from constraints.alerting import raise_alert
from constraints.models import ActionSwitch, AlertPolicy
from sources.models import SyncSchedule

pytestmark = pytest.mark.django_db
SINGLETONS = [
    ("/admin/constraints/actionswitch/add/", ActionSwitch, "add_actionswitch"),
    ("/admin/constraints/alertpolicy/add/", AlertPolicy, "add_alertpolicy"),
    ("/admin/sources/syncschedule/add/", SyncSchedule, "add_syncschedule"),
]


def staff_with(*codenames: str):
    user = get_user_model().objects.create_user("staff", password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.mark.parametrize(("url", "model", "codename"), SINGLETONS)
def test_a_staff_user_without_the_permission_cannot_add_a_singleton(client, url, model, codename):
    model.objects.all().delete()  # the migrations create some of them
    client.force_login(staff_with())
    assert client.get(url).status_code == 403
    assert client.post(url, {"actions_stopped": "on", "weekly_budget": 1}).status_code == 403
    assert not model.objects.exists()


@pytest.mark.parametrize(("url", "model", "codename"), SINGLETONS)
def test_whoever_holds_the_permission_adds_it_once(client, url, model, codename):
    model.objects.all().delete()
    client.force_login(staff_with(codename))
    assert client.get(url).status_code == 200
    model.objects.create()
    assert client.get(url).status_code == 403  # one row: change it instead


def test_only_someone_who_may_acknowledge_sees_the_acknowledge_action(client):
    raise_alert(kind="rule", fingerprint="rule:1", title="CAC above 47")
    client.force_login(staff_with("view_alert"))
    page = client.get("/admin/constraints/alert/").content.decode()
    assert 'value="acknowledge"' not in page and 'value="resolve"' not in page
    client.force_login(get_user_model().objects.create_user("ops", is_staff=True))
    ops = get_user_model().objects.get(username="ops")
    ops.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_alert", "acknowledge_alert"])
    )
    page = client.get("/admin/constraints/alert/").content.decode()
    assert 'value="acknowledge"' in page


def test_activating_a_constraint_needs_the_switch_permission(client, cac):
    client.force_login(staff_with("view_constraint", "change_constraint"))
    page = client.get("/admin/constraints/constraint/").content.decode()
    assert 'value="activate"' not in page
    client.force_login(staff_with_switch())
    assert 'value="activate"' in client.get("/admin/constraints/constraint/").content.decode()


def staff_with_switch():
    user = get_user_model().objects.create_user("operator", password="x", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_constraint", "switch_constraint"])
    )
    return user
