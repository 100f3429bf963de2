"""Tables for export_metrics: metric values per day and channel, or the raw measures."""

import datetime as dt
import re
from collections.abc import Iterable, Iterator

import pandas as pd

from constraints import metrics
from constraints.models import Constraint, Metric
from sources.models import Measure

METRIC_COLUMNS = ["date", "channel", "metric", "value"]
MEASURE_COLUMNS = ["date", "source", "channel", "campaign", "measure", "value"]
ALL_CHANNELS = "all"
# A cell a spreadsheet would read as a formula (OWASP, CSV Injection): = + - @ tab CR.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d[\d,]*)?\.?\d+([eE][+-]?\d+)?%?")


def safe_cell(value):
    """A CSV cell no spreadsheet runs: text starting like a formula gets a leading "'", as
    OWASP recommends (https://owasp.org/www-community/attacks/CSV_Injection); numbers, and
    text that is only a number such as '-12.5', are left as they are."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    if PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def safe_row(row: Iterable) -> list:
    return [safe_cell(value) for value in row]


def metric_table(frame: pd.DataFrame, metric_list: Iterable[Metric]) -> pd.DataFrame:
    """Pure: each metric per day across all channels (channel "all") and per day and channel.

    Ratio of sums within each day (and channel); days or channels without a value are absent.
    Sorted by date, metric order, channel ("all" first).
    """
    parts = []
    for order, metric in enumerate(metric_list):
        overall = metrics.daily(frame, metric, by_channel=False).assign(channel=ALL_CHANNELS)
        per_channel = metrics.daily(frame, metric, by_channel=True)
        for part, rank in ((overall, 0), (per_channel, 1)):
            parts.append(part.assign(metric=metric.key, order=order, rank=rank))
    if not parts:
        return pd.DataFrame(columns=METRIC_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    table = table.sort_values(["date", "order", "rank", "channel"], kind="stable")
    table["date"] = pd.to_datetime(table["date"]).dt.date
    return table[METRIC_COLUMNS].reset_index(drop=True)


def metric_rows(*, constraint: Constraint, since: dt.date, until: dt.date) -> pd.DataFrame:
    metric_list = list(constraint.metrics.order_by("-role", "position", "pk"))
    frame = metrics.load_frame(since=since, until=until, metrics=metric_list)
    return metric_table(frame, metric_list)


def measure_rows(*, since: dt.date, until: dt.date) -> Iterator[tuple]:
    """Raw measures as (date, source, channel, campaign, measure, value), streamed in order."""
    rows = (
        Measure.objects.for_window(since, until)
        .readable()
        .order_by("date", "source__key", "channel__key", "campaign", "name")
        .values_list("date", "source__key", "channel__key", "campaign", "name", "value")
    )
    return rows.iterator(chunk_size=5000)
