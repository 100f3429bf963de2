"""Three processes re-pull the same restated day at once against PostgreSQL: each change is
kept as one revision, and the stored values are the platform's."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from sources.models import Measure, Revision, Source
from sources.pipeline import pull
from tests.rules.test_evaluation_concurrency import database_url

ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 3, 10)
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def test_racing_re_pulls_keep_each_change_once():
    source = Source.objects.create(key="demo", name="Demo", kind=Source.Kind.DEMO)
    pull(source=source, since=DAY, until=DAY)
    final = dict(Measure.objects.filter(name="conversions").values_list("pk", "value"))
    # As the platform first reported them: 60 % of today's conversions.
    for pk, value in final.items():
        Measure.objects.filter(pk=pk).update(value=round(value * 6 / 10, 2))
    env = {**os.environ, "DATABASE_URL": database_url(), "SECRET_KEY": "race-test"}
    command = [
        sys.executable,
        "manage.py",
        "pull",
        "demo",
        "--since",
        str(DAY),
        "--until",
        str(DAY),
    ]
    racers = [
        subprocess.Popen(  # noqa: S603 (our own manage.py, fixed arguments)
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    for racer in racers:
        _, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err.decode()
    changed = [pk for pk, value in final.items() if value]
    assert Revision.objects.filter(name="conversions").count() == len(changed) > 0
    assert dict(Measure.objects.filter(name="conversions").values_list("pk", "value")) == final
