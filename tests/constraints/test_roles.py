"""The three roles the migrations create, each with exactly the acts it is for."""

import pytest
from django.contrib.auth.models import Group, User


def user_in(group: str) -> User:
    user = User.objects.create_user(group.lower(), password="pw")
    user.groups.add(Group.objects.get(name=group))
    return User.objects.get(pk=user.pk)  # a fresh object: permissions are cached per instance


@pytest.mark.django_db
def test_it_lets_a_viewer_only_read_the_page():
    viewer = user_in("Viewer")
    assert viewer.has_perm("constraints.view_dashboard")
    assert not viewer.has_perm("constraints.approve_decision")
    assert not viewer.has_perm("constraints.acknowledge_alert")


@pytest.mark.django_db
def test_it_lets_an_approver_answer_proposals_and_alerts_but_not_edit_rules():
    approver = user_in("Approver")
    assert approver.has_perms(["constraints.approve_decision", "constraints.acknowledge_alert"])
    assert not approver.has_perm("constraints.change_rule")
    assert not approver.has_perm("constraints.add_actionswitch")
    assert not approver.has_perm("constraints.switch_constraint")


@pytest.mark.django_db
def test_it_lets_an_operator_edit_rules_sources_policy_and_the_kill_switch():
    operator = user_in("Operator")
    assert operator.has_perms(
        [
            "constraints.approve_decision",
            "constraints.change_rule",
            "constraints.add_condition",
            "constraints.change_alertpolicy",
            "constraints.add_actionswitch",
            "constraints.switch_constraint",
            "sources.change_source",
            "sources.change_syncschedule",
        ]
    )
    assert not operator.has_perm("auth.change_user")


@pytest.mark.django_db
def test_creating_the_groups_again_leaves_the_app_registry_as_it_was():
    """Tests re-create the groups after a flush with the real registry: every app must still
    say it has models, or later flushes would stop recreating permissions."""
    import importlib

    from django.apps import apps

    before = {config.label: config.models_module for config in apps.get_app_configs()}
    importlib.import_module("constraints.migrations.0006_roles").create_groups(apps, None)
    assert {config.label: config.models_module for config in apps.get_app_configs()} == before
    assert Group.objects.filter(name__in=["Viewer", "Approver", "Operator"]).count() == 3
