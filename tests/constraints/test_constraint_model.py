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
