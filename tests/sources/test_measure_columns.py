"""Measure rows read as numpy columns: day numbers instead of parsed dates, ids, floats."""

import datetime as dt
from decimal import Decimal

import numpy as np

from sources.models import Channel, Measure, Source

DAY = dt.date(2026, 3, 1)


def test_it_reads_days_ids_measures_and_values(db):
    source = Source.objects.create(key="ads", name="Ads", kind=Source.Kind.GOOGLE_ADS)
    channel = Channel.objects.create(key="search", name="Search")
    for offset, value in ((0, "12.345678"), (400, "0.5")):
        Measure.objects.create(source=source, channel=channel, date=DAY + dt.timedelta(offset),
                               name="spend", value=Decimal(value))  # fmt: skip
    columns = Measure.objects.value_columns()
    assert sorted(columns["day"].tolist()) == [DAY, DAY + dt.timedelta(400)]
    assert columns["day"].dtype == np.dtype("datetime64[D]")
    assert columns["source"].tolist() == [source.pk] * 2
    assert columns["channel"].tolist() == [channel.pk] * 2
    assert columns["measure"].tolist() == ["spend", "spend"]
    assert sorted(columns["value"].tolist()) == [0.5, 12.345678]


def test_it_reads_no_rows_as_empty_columns(db):
    columns = Measure.objects.value_columns()
    assert all(len(column) == 0 for column in columns.values())
    assert columns["day"].dtype == np.dtype("datetime64[D]")
