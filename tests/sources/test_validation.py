"""Validation at the door (issue #11): what a careless or hostile source sends is refused
row by row with a reason, and the good rows of the same window are kept."""

import datetime as dt
import math

import pandas as pd
import pytest
from django.db import connection

from sources.connectors.base import BATCH_COLUMNS
from sources.models import DeadLetter, Measure, SyncRun
from sources.pipeline import pull
from sources.validation import safe_raw, validate
from tests.conftest import make_source

DAY = dt.date(2026, 3, 10)


def frame(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        [(DAY, channel, "", "", measure, value) for channel, measure, value in rows],
        columns=BATCH_COLUMNS,
    )


def reasons(batch: pd.DataFrame) -> list[str]:
    return [r.reason for r in validate(batch, since=DAY, until=DAY, measures=[])[1]]


@pytest.mark.parametrize("value", ["inf", "Infinity", "-inf", math.inf, "1e999", 10**400])
def test_it_refuses_values_that_are_not_finite(value):
    assert reasons(frame(("Email", "revenue", value))) == ["value is not finite"]


@pytest.mark.parametrize(
    ("measure", "value", "why"),
    [
        ("revenue", "5e13", "money outside ±1e+12: a unit mistake?"),
        ("revenue", "1e30", "value outside the storage range ±1e14"),
        ("spend", 2e12, "money outside ±1e+12: a unit mistake?"),
        ("clicks", "2.5", "a count is a whole number ≥ 0"),
        ("customers", -1, "a count is a whole number ≥ 0"),
        ("conversions", -0.5, "a count cannot be negative"),
        ("made_up", 5e12, "value outside ±1e+12"),
    ],
)
def test_it_refuses_values_outside_the_measures_sanity_range(measure, value, why):
    assert reasons(frame(("Email", measure, value))) == [why]


def test_documented_fractional_counts_and_refunds_pass():
    good, rejected = validate(
        frame(("Google Ads", "conversions", 2.5), ("Email", "revenue", -40), ("E", "clicks", 3)),
        since=DAY,
        until=DAY,
        measures=[],
    )
    assert rejected == [] and good["value"].tolist() == [2.5, -40.0, 3.0]


@pytest.mark.parametrize(
    ("column", "why"),
    [
        ("channel", "channel longer than 64 characters"),
        ("campaign", "campaign longer than 64 characters"),
    ],
)
def test_it_refuses_text_longer_than_its_column(column, why):
    batch = frame(("Email", "spend", 1))
    batch[column] = "x" * 65
    assert reasons(batch) == [why]


@pytest.mark.parametrize("text", ["bad\x00name", "bad\ud800name"])
def test_it_refuses_nul_and_lone_surrogates(text):
    assert reasons(frame((text, "spend", 1))) == [
        "channel contains a NUL character or an unpaired surrogate"
    ]


def test_conflicting_duplicates_are_refused_naming_both_lines():
    batch = frame(("Email", "leads", 4), ("Email", "leads", 5), ("Email", "leads", 4))
    batch["line"] = [2, 3, 4]
    good, rejected = validate(batch, since=DAY, until=DAY, measures=[])
    assert good.empty
    assert [(r.line, r.reason) for r in rejected] == [
        (line, "conflicting duplicate: lines 2, 3, 4 give different values") for line in (2, 3, 4)
    ]


def test_an_exact_repeat_is_one_row():
    good, rejected = validate(
        frame(("Email", "leads", 4), ("Email", "leads", "4")), since=DAY, until=DAY, measures=[]
    )
    assert rejected == [] and len(good) == 1


def test_a_raw_record_is_made_storable_as_json():
    raw = safe_raw({"a\x00": "x\ud800", "n": math.inf, "d": DAY, "nested": [math.nan, None]})
    assert raw == {"a\\x00": "x\\ud800", "n": "inf", "d": "2026-03-10", "nested": ["nan", None]}


def csv_source(tmp_path, text):
    path = tmp_path / "numbers.csv"
    path.write_text(text, encoding="utf-8")
    return make_source("csv", options={"path": str(path)})


@pytest.mark.django_db
def test_non_finite_and_huge_values_become_dead_letters_and_good_rows_are_kept(tmp_path):
    """What broke 1: inf, Infinity, 1e15 or 1e30 stopped every rule (SQLite) or lost the
    whole file (PostgreSQL: numeric field overflow)."""
    text = "date,channel,measure,value\n" + "".join(
        f"2026-03-10,{c},revenue,{v}\n"
        for c, v in [("A", "inf"), ("B", "Infinity"), ("C", "1e15"), ("D", "1e30"), ("E", "12")]
    )
    run = pull(source=csv_source(tmp_path, text), since=DAY, until=DAY)
    assert (run.status, run.rows_stored, run.rows_rejected) == (SyncRun.Status.SUCCEEDED, 1, 4)
    assert Measure.objects.get().value == 12
    assert sorted(DeadLetter.objects.values_list("line", flat=True)) == [2, 3, 4, 5]


@pytest.mark.django_db
def test_a_long_channel_or_campaign_is_a_dead_letter_not_a_failed_window(tmp_path):
    """What broke 4: a name over 64 characters aborted the run with 'value too long'."""
    long = "c" * 65
    text = (
        "date,channel,measure,value,campaign\n"
        f"2026-03-10,{long},spend,1,\n2026-03-10,Email,spend,2,{long}\n2026-03-10,Email,spend,3,\n"
    )
    run = pull(source=csv_source(tmp_path, text), since=DAY, until=DAY)
    assert (run.status, run.rows_stored, run.rows_rejected) == (SyncRun.Status.SUCCEEDED, 1, 2)
    letters = DeadLetter.objects.order_by("line")
    assert [(d.line, d.reason) for d in letters] == [
        (2, "channel longer than 64 characters"),
        (3, "campaign longer than 64 characters"),
    ]


@pytest.mark.django_db
def test_a_big_file_with_conflicting_duplicates_accounts_for_every_row(tmp_path):
    """What broke 5: 100,000 rows with conflicting duplicates stored 10,000 and rejected 0.
    (20,000 rows here: the same shape, ten lines per key, at a fifth of the suite's time.)"""
    lines = [f"2026-03-10,ch{n % 2_000},leads,{n}" for n in range(20_000)]
    lines += [f"2026-03-10,solo{n},leads,{n}" for n in range(5)]
    text = "date,channel,measure,value\n" + "\n".join(lines) + "\n"
    run = pull(source=csv_source(tmp_path, text), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.rows_received, run.rows_stored, run.rows_rejected) == (20_005, 5, 20_000)
    assert DeadLetter.objects.count() == 20_000
    letter = DeadLetter.objects.get(line=2)
    assert letter.reason.startswith("conflicting duplicate: lines 2, 2002, 4002,")


@pytest.mark.django_db
def test_reading_stored_data_never_raises_on_a_bad_row(demo_source):
    """SQLite kept whatever was written before validation (inf, 1e30): readers skip it."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's numeric(20, 6) cannot hold such a value at all")
    good = Measure.objects.create(
        source=demo_source, channel_id=_channel(), date=DAY, name="spend", value=5
    )
    with connection.cursor() as cursor:
        for name, value in [("revenue", math.inf), ("customers", 1e30)]:
            cursor.execute(
                "INSERT INTO sources_measure (source_id, channel_id, campaign, date, name, value)"
                " VALUES (%s, %s, '', %s, %s, %s)",
                [demo_source.pk, good.channel_id, DAY.isoformat(), name, value],
            )
    frame = Measure.objects.all().to_frame()
    assert frame["value"].tolist() == [5.0]
    assert Measure.objects.all().value_columns()["value"].tolist() == [5.0]
    assert [row[4] for row in Measure.objects.readable().values_list(*_fields())] == ["spend"]


def _channel() -> int:
    from sources.models import Channel

    return Channel.objects.create(key="email", name="Email").pk


def _fields():
    return ["date", "source", "channel", "campaign", "name", "value"]
