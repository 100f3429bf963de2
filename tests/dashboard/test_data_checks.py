"""Open data checks on the numbers the page decides on: amber freshness, marked cells."""

import datetime as dt

import pytest
from django.urls import reverse

from sources.days import yesterday
from sources.models import DataCheck, Source

URL = reverse("constraints-dashboard")


def open_check(*, day: dt.date, kind=DataCheck.Kind.MISSING_DAY, measure: str = "") -> DataCheck:
    source = Source.objects.get(key="demo")
    subject = f":{measure}" if measure else ""
    return DataCheck.objects.create(
        source=source, kind=kind, day=day, message=f"no data for {day}",
        fingerprint=f"data:demo:{kind}:{day}{subject}",
    )  # fmt: skip


def test_it_turns_freshness_amber_with_the_reason(staff_client, demo):
    open_check(day=yesterday() - dt.timedelta(days=3))
    response = staff_client.get(URL)
    page = response.context["page"]
    (fresh,) = [f for f in page.freshness if f.source.key == "demo"]
    assert fresh.doubtful and fresh.status == "up to date, 1 open data check"
    html = response.content.decode()
    freshness = html.split('id="freshness"')[1]
    assert "verdict-warn" in freshness and "Missing day: no data for" in freshness
    assert "Open data checks touch the numbers on this page." in html
    assert "shown; it touches" not in html  # its day is one of the 28 days shown


@pytest.mark.parametrize(
    ("days_ago", "period", "touched"),
    [
        (40, 28, "(before the 28 days shown; it touches the change against the 28 days before)"),
        (10, 7, "(before the 7 days shown; it touches the 28-day column and the change "
                "against the 7 days before)"),
        (20, 7, "(before the 7 days shown; it touches the 28-day column)"),
    ],
)  # fmt: skip
def test_it_says_what_a_check_before_the_view_touches(staff_client, demo, days_ago, period,
                                                      touched):  # fmt: skip
    open_check(day=yesterday() - dt.timedelta(days=days_ago - 1))
    html = staff_client.get(URL, {"period": period}).content.decode()
    banner = html.split("Open data checks touch the numbers on this page.")[1].split("</div>")[0]
    assert "Demo data: no data for" in banner and touched in banner
    assert ("The cells they affect are marked." in banner) == ("column" in touched)


def test_it_marks_the_cells_whose_window_holds_the_day(staff_client, demo):
    open_check(day=yesterday() - dt.timedelta(days=3))
    rows = staff_client.get(URL).context["page"].rows
    yesterday_cell, week, month = rows[0].cells[0]
    assert yesterday_cell.doubt == "" and week.doubt.startswith("Demo data: no data for")
    assert month.doubt


def test_it_marks_only_the_drivers_reading_the_measure(staff_client, demo):
    open_check(day=yesterday(), kind=DataCheck.Kind.VALUE_SPIKE, measure="sessions")
    row = staff_client.get(URL).context["page"].rows[0]
    cpa, conversion_rate, lead_quality = (cells[0].doubt for cells in row.cells)
    assert conversion_rate and not cpa and not lead_quality


def test_it_ignores_checks_older_than_the_numbers_shown(staff_client, demo):
    open_check(day=yesterday() - dt.timedelta(days=120))
    page = staff_client.get(URL).context["page"]
    assert page.data_checks == []
    assert all(not f.doubtful for f in page.freshness)


@pytest.mark.parametrize(("days_ago", "value", "change"), [(3, True, False), (40, False, True)])
def test_it_marks_the_headline_or_its_change_by_the_checks_day(staff_client, demo, days_ago,
                                                              value, change):  # fmt: skip
    open_check(day=yesterday() - dt.timedelta(days=days_ago - 1))
    response = staff_client.get(URL)
    headline = response.context["page"].headline
    assert bool(headline.reading.doubt) is value and bool(headline.previous.doubt) is change
    html = response.content.decode()
    assert ("touches these 28 days" in html) is value
    assert ("touches the previous 28 days" in html) is change
