import pytest
from django.core.management import CommandError, call_command

from constraints.models import Decision
from tests.rules_support import make_rule


def test_it_evaluates_the_given_day(constraint, pulled, day, capsys):
    make_rule(constraint, {"metric_key": "cpa", "comparator": "gt", "threshold": 0})
    call_command("evaluate", "--date", day.isoformat())
    out = capsys.readouterr().out
    assert out.startswith(f"{day}:")
    assert "Dry run" in out
    assert Decision.objects.filter(period=day).exists()


def test_it_refuses_a_bad_date(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("evaluate", "--date", "10/03/2026")
