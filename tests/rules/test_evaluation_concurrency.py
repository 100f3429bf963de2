"""Two processes evaluate the same day at once against PostgreSQL: one application each."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from constraints.models import Alert, Decision, Rule
from tests.rules_support import make_rule

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_it_applies_once_when_two_processes_race(constraint, pulled, google, day):
    make_rule(
        constraint,
        {"metric_key": "cpa", "comparator": "gt", "threshold": 0},
        name="raise",
        scope=Rule.Scope.CAMPAIGNS,
        channels=[google],
        mode=Rule.Mode.AUTOMATIC,
        action=Rule.Action.RAISE_BUDGET,
        action_value=20,
    )
    make_rule(
        constraint,
        {"metric_key": "cpa", "comparator": "gt", "threshold": 0},
        name="tell",
        scope=Rule.Scope.CHANNELS,
        channels=[google],
        mode=Rule.Mode.AUTOMATIC,
    )
    env = {**os.environ, "DATABASE_URL": database_url(), "SECRET_KEY": "race-test"}
    command = [sys.executable, "manage.py", "evaluate", "--date", day.isoformat()]
    racers = [
        subprocess.Popen(  # noqa: S603 (our own manage.py, fixed arguments)
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    for racer in racers:
        _, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err.decode()
    changes = Decision.objects.filter(rule__name="raise")
    assert changes.count() == 3
    assert set(changes.values_list("status", flat=True)) == {Decision.Status.SIMULATED}
    for change in changes:
        assert change.after_value == round(change.before_value * 12 / 10, 2)  # +20% once, not 44%
    assert Decision.objects.get(rule__name="tell").status == Decision.Status.APPLIED
    assert Alert.objects.filter(kind=Alert.Kind.RULE).count() == 1
