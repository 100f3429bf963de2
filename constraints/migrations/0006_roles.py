"""Roles: custom permissions for each act, and the three groups that hold them.

Viewer reads the page; Approver also approves and rejects proposals and acknowledges and
snoozes alerts; Operator also edits rules, sources, constraints, the alert policy and the kill
switch. Running the migration again (or after a group was edited) only adds what is missing.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEWER = [("constraints", "view_dashboard")]
APPROVER = [*VIEWER, ("constraints", "approve_decision"), ("constraints", "acknowledge_alert")]
EDITED_BY_OPERATORS = {
    "constraints": ["rule", "condition", "constraint", "metric", "alertpolicy", "actionswitch"],
    "sources": ["source", "channel", "channelalias", "syncschedule"],
}
READ_BY_OPERATORS = {
    "constraints": ["alert", "decision", "delivery", "heartbeat"],
    "sources": ["campaign", "measure", "syncrun", "deadletter", "datacheck", "webhookevent"],
}


def operator_permissions() -> list[tuple[str, str]]:
    codenames = [*APPROVER, ("constraints", "switch_constraint")]
    for app, models in EDITED_BY_OPERATORS.items():
        codenames += [(app, f"{act}_{model}") for model in models for act in ("add", "change", "delete", "view")]
    for app, models in READ_BY_OPERATORS.items():
        codenames += [(app, f"view_{model}") for model in models]
    return codenames + [("constraints", "change_alert"), ("sources", "change_deadletter")]


def create_groups(apps, schema_editor):
    for config in apps.get_app_configs():
        # create_permissions skips an app whose models_module is unset, as it is in a
        # migration's app registry; put back what was there (a test calls this with the real
        # registry, where clearing it would stop every later flush recreating permissions).
        models_module, config.models_module = getattr(config, "models_module", None), True
        create_permissions(config, verbosity=0, apps=apps)
        config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    roles = {"Viewer": VIEWER, "Approver": APPROVER, "Operator": operator_permissions()}
    for name, codenames in roles.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app, codename in codenames:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("sources", "0002_sources"),
        ("constraints", "0005_anomalies"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="alert",
            options={
                "ordering": ["-opened_at"],
                "permissions": [("acknowledge_alert", "Can acknowledge and snooze alerts")],
            },
        ),
        migrations.AlterModelOptions(
            name="constraint",
            options={
                "ordering": ["-created_at"],
                "permissions": [
                    ("view_dashboard", "Can read the dashboard"),
                    ("switch_constraint", "Can switch the active constraint"),
                ],
            },
        ),
        migrations.AlterModelOptions(
            name="decision",
            options={
                "ordering": ["-created_at"],
                "permissions": [("approve_decision", "Can approve and reject proposed actions")],
            },
        ),
        migrations.RunPython(create_groups, migrations.RunPython.noop),
    ]
