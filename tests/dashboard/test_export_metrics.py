import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from constraints.template_io import apply_template, load_template
from sources.models import Channel, Measure, Source

pytestmark = pytest.mark.django_db
D1, D2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


@pytest.fixture
def measures():
    apply_template(data=load_template("cac-efficiency"))
    source = Source.objects.create(key="demo", name="Demo", kind=Source.Kind.DEMO)
    google = Channel.objects.get(key="google-ads")
    meta = Channel.objects.get(key="meta-ads")
    rows = [
        (google, "11", D1, "spend", "100.50"),
        (google, "12", D1, "spend", "99.50"),
        (google, "11", D1, "conversions", "4"),
        (meta, "21", D1, "spend", "90"),
        (meta, "21", D1, "conversions", "0"),
        (google, "", D1, "customers", "2"),
        (meta, "", D1, "customers", "1"),
        (google, "11", D2, "spend", "50"),
        (google, "11", D2, "conversions", "5"),
    ]
    for channel, campaign, day, name, value in rows:
        Measure.objects.create(
            source=source,
            channel=channel,
            campaign=campaign,
            date=day,
            name=name,
            value=Decimal(value),
        )


def export(*args: str) -> str:
    out = io.StringIO()
    call_command(
        "export_metrics", "--since", D1.isoformat(), "--until", D2.isoformat(), *args, stdout=out
    )
    return out.getvalue()


def test_it_writes_metrics_per_day_and_channel_as_csv(measures):
    rows = list(csv.DictReader(io.StringIO(export())))
    assert list(rows[0]) == ["date", "channel", "metric", "value"]
    values = {(r["date"], r["channel"], r["metric"]): float(r["value"]) for r in rows}
    assert values[("2026-03-01", "google-ads", "cpa")] == pytest.approx(50.0)
    assert values[("2026-03-01", "all", "cpa")] == pytest.approx(290 / 4)
    assert values[("2026-03-01", "all", "blended_cac")] == pytest.approx(290 / 3)
    assert values[("2026-03-02", "google-ads", "cpa")] == pytest.approx(10.0)
    # Zero conversions on Meta: no value, not 0 and not infinity.
    assert ("2026-03-01", "meta-ads", "cpa") not in values
    # No customers on day 2: no headline value that day.
    assert ("2026-03-02", "all", "blended_cac") not in values


def test_it_writes_metrics_as_json(measures):
    records = json.loads(export("--format", "json"))
    assert records[0] == {
        "date": "2026-03-01",
        "channel": "all",
        "metric": "blended_cac",
        "value": pytest.approx(96.666667),
    }
    assert {r["metric"] for r in records} == {"blended_cac", "cpa"}


def test_it_writes_raw_measures_as_csv(measures):
    rows = list(csv.reader(io.StringIO(export("--measures"))))
    assert rows[0] == ["date", "source", "channel", "campaign", "measure", "value"]
    assert len(rows) == 10
    assert ["2026-03-01", "demo", "google-ads", "", "customers", "2"] in rows
    assert ["2026-03-01", "demo", "google-ads", "11", "spend", "100.5"] in rows


def test_it_writes_raw_measures_as_json(measures):
    records = json.loads(export("--measures", "--format", "json"))
    assert len(records) == 9
    assert {
        "date": "2026-03-02",
        "source": "demo",
        "channel": "google-ads",
        "campaign": "11",
        "measure": "conversions",
        "value": 5.0,
    } in records


def test_it_refuses_a_window_that_ends_before_it_starts(measures):
    with pytest.raises(CommandError, match="after"):
        call_command("export_metrics", "--since", "2026-03-05", "--until", "2026-03-01")


def test_it_needs_an_active_constraint_for_metrics(db):
    with pytest.raises(CommandError, match="No active constraint"):
        call_command("export_metrics")
