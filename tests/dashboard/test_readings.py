from decimal import Decimal

import pytest

from constraints.dashboard.readings import Reading, format_value
from constraints.models import Metric

CPA = Metric(key="cpa", label="CPA", unit="currency", direction="lower", target=Decimal(47))
CR = Metric(key="cr", label="CR", unit="percent", direction="higher", target=Decimal("3.2"))


@pytest.mark.parametrize(
    "metric,value,trim,text",
    [
        (CPA, 41.2, False, "$41.20"),
        (CPA, 438.4, False, "$438"),
        (CPA, 1234.5, False, "$1,234"),
        (CPA, 47.0, True, "$47"),
        (CPA, -5.0, False, "−$5.00"),
        (CR, 3.456, False, "3.46%"),
        (CR, 54.1, False, "54.1%"),
        (CR, 3.2, True, "3.2%"),
        (Metric(unit="count"), 1204.0, False, "1,204"),
        (CPA, None, False, "—"),
    ],
)
def test_it_formats_values_by_unit(metric, value, trim, text):
    assert format_value(metric, value, trim=trim) == text


def test_it_is_good_below_target_when_lower_is_better():
    reading = Reading(CPA, 41.36)
    assert reading.verdict == "good" and reading.arrow == "▼" and reading.position == "below"
    assert reading.label == "12% below target $47, on target"
    assert reading.short_label == "12%"


def test_it_is_bad_below_target_when_higher_is_better():
    reading = Reading(CR, 2.4)
    assert reading.verdict == "bad" and reading.arrow == "▼"
    assert reading.label == "25% below target 3.2%, off target"


def test_it_says_at_target_for_a_value_within_half_a_percent():
    assert Reading(CPA, 47.1).label == "at target $47, off target"
    assert Reading(CPA, 47.0).label == "at target $47, on target"


def test_it_says_no_data_without_a_value_and_no_target_without_a_target():
    assert Reading(CPA, None).label == "no data" and Reading(CPA, None).verdict == "none"
    untargeted = Metric(unit="percent", direction="higher", target=None)
    assert Reading(untargeted, 3.0).label == "no target"
    assert Reading(untargeted, 3.0).short_label == ""
    assert Reading(CPA, None).csv_value == "" and Reading(CPA, 41.236).csv_value == "41.24"
