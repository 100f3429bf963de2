import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from constraints.models import Constraint, Metric

pytestmark = pytest.mark.django_db


def make_constraint(name: str, *, drivers: int = 3) -> Constraint:
    constraint = Constraint.objects.create(name=name, question="?")
    Metric.objects.create(
        constraint=constraint,
        key="cac",
        label="CAC",
        role=Metric.Role.HEADLINE,
        unit="currency",
        direction="lower",
        numerator="spend",
        denominator="customers",
    )
    for index in range(drivers):
        Metric.objects.create(
            constraint=constraint,
            key=f"d{index}",
            label=f"D{index}",
            unit="count",
            direction="higher",
            numerator="leads",
        )
    return constraint


def test_the_database_refuses_a_second_active_constraint():
    make_constraint("one").activate()
    other = make_constraint("two")
    with pytest.raises(IntegrityError), transaction.atomic():
        Constraint.objects.filter(pk=other.pk).update(status=Constraint.Status.ACTIVE)


def test_the_database_refuses_a_second_headline():
    constraint = make_constraint("one")
    with pytest.raises(IntegrityError), transaction.atomic():
        Metric.objects.create(
            constraint=constraint,
            key="x",
            label="X",
            role=Metric.Role.HEADLINE,
            unit="count",
            direction="higher",
            numerator="leads",
        )


def test_activating_archives_the_previous_constraint():
    first = make_constraint("one")
    first.activate()
    second = make_constraint("two")
    second.activate()
    first.refresh_from_db()
    assert first.status == Constraint.Status.ARCHIVED
    assert Constraint.objects.active() == second


@pytest.mark.parametrize("drivers", [2, 4])
def test_activating_needs_exactly_three_drivers(drivers):
    constraint = make_constraint("one", drivers=drivers)
    with pytest.raises(ValidationError, match="exactly three driver metrics"):
        constraint.activate()
    constraint.refresh_from_db()
    assert constraint.status == Constraint.Status.DRAFT


@pytest.mark.parametrize(
    ("split_by", "problem"),
    [
        ("spend", "one of this metric's own measures"),
        ("customers", "one of this metric's own measures"),
        ("conversions + clicks", "Name one measure"),
        ("Conversions", "Name one measure"),
    ],
)
def test_a_split_by_that_makes_no_sense_is_refused_with_the_reason(split_by, problem):
    metric = Metric(
        key="cac",
        label="CAC",
        unit="currency",
        direction="lower",
        numerator="spend",
        denominator="customers",
        split_by=split_by,
    )
    with pytest.raises(ValidationError, match=problem) as refused:
        metric.clean()
    assert "split_by" in refused.value.error_dict


def test_a_measure_reported_per_campaign_may_split_a_metric():
    metric = Metric(numerator="spend", denominator="customers", split_by="conversions")
    assert metric.split_by_problem() == ""
    metric.clean()  # raises ValidationError when refused
