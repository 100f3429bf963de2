"""Anomalies: a day on which a metric breaks its own pattern in one channel.

The metric is the ratio of sums per day and channel (constraints.metrics). The baseline is
robust and seasonal: the median of the same weekday over the previous eight weeks, with the
median absolute deviation (MAD) of the eight weeks' days around their weekday medians as the
spread, both in logs (ratios move multiplicatively). A day is anomalous when it sits at least
`threshold` spreads away (AlertPolicy.anomaly_threshold). Channels whose usual volume (the
smaller of numerator and denominator, e.g. conversions for a conversion rate) is below
`min_volume` are skipped: their ratios are mostly noise.

`daily_values`, `score_day` and `flag` are pure (frames in, frames out); `find_anomalies`
reads the database and `detect_anomalies` opens and resolves alerts. Figures:
benchmarks/anomalies.py.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from constraints.alerting import clear_alert, raise_alert
from constraints.metrics import load_frame, ratio_of_sums
from constraints.models import Alert, AlertPolicy, Constraint, Metric
from constraints.rendering import format_value
from sources.days import each_day
from sources.models import Channel

WEEKS = 8
LOOKBACK_DAYS = 7  # an alert stays open while an unusual day lies this close to today
MIN_HISTORY = 4  # same-weekday values needed before a day can be judged
MAD_TO_SIGMA = 1.4826  # makes the MAD estimate a normal distribution's standard deviation
# Residuals around 8-point medians understate the spread, and the median itself is uncertain:
# this factor, measured with benchmarks/anomalies.py, gives ordinary days a score with a
# standard deviation of about 1, so the threshold reads as "standard deviations".
SMALL_SAMPLE_CORRECTION = 1.25
# A very steady series has a tiny MAD, and then a 15% move would score like a collapse. The
# floor (in log terms, ~8%) means that at the default threshold of 4 the smallest move that
# can raise an alert is about ×1.4 or ×0.7: below that, a day is not news for a founder.
MIN_SCALE = 0.08
# A day with zero events is judged as if it had half a usual day's event ("continuity
# correction"): in a channel with 4 events a day, a zero happens every couple of months by
# chance and is no collapse; in one with 40 it is.
HALF_AN_EVENT = 0.5
MAX_SCORE = 99.0
EPSILON = 1e-9  # a value of zero is a collapse, scored as far below anything usual
SCORE_COLUMNS = ["channel", "value", "median", "spread", "score", "volume", "usual_volume"]


def daily_values(frame: pd.DataFrame, metric: Metric) -> pd.DataFrame:
    """Pure: one row per day and channel with columns date, channel, value, volume.

    `volume` is the smaller of the day's numerator and denominator sums (for a conversion rate
    the conversions, for a cost per lead the leads): the count whose size decides how noisy
    the ratio is. Days without a value (no rows, zero denominator) are absent.
    """
    if metric.source_kinds:
        frame = frame[frame["source_kind"].isin(metric.source_kinds)]
    by = ["date", "channel"]
    value = ratio_of_sums(frame, metric, by=by).rename("value")
    volume = _sums(frame, metric.numerator_measures, by)
    if metric.denominator_measures:
        volume = np.fmin(volume, _sums(frame, metric.denominator_measures, by))
    joined = pd.concat([value, volume.rename("volume")], axis=1).dropna(subset=["value"])
    return joined.fillna({"volume": 0.0}).reset_index()


def _sums(frame: pd.DataFrame, measures: list[str], by: list[str]) -> pd.Series:
    rows = frame[frame["measure"].isin(measures)]
    return rows.groupby(by)["value"].sum().astype(float)


def robust_baseline(window: pd.DataFrame, *, weekday: int) -> tuple[float, float]:
    """Pure: (level, scale) from a channel's past days (columns date, log).

    The level is the median of the same weekday's log-values. The scale pools every day of
    the window: the MAD of each day's distance to its own weekday's median, as a standard
    deviation, floored at MIN_SCALE. Eight same-weekday points alone give a scale too noisy to
    trust; fifty-six pooled points do not. Working in logs makes a halving and a doubling
    equally far from the usual value.
    """
    weekdays = window["date"].dt.day_of_week
    medians = window.groupby(weekdays)["log"].transform("median")
    residuals = (window["log"] - medians).to_numpy()
    mad = float(np.median(np.abs(residuals - np.median(residuals)))) * MAD_TO_SIGMA
    level = float(window.loc[weekdays == weekday, "log"].median())
    return level, max(mad * SMALL_SAMPLE_CORRECTION, MIN_SCALE)


def score_day(values: pd.DataFrame, *, day: dt.date, min_volume: float) -> pd.DataFrame:
    """Pure: each sizeable channel's value on `day` against its same-weekday baseline.

    Returns SCORE_COLUMNS, one row per channel that has a value on `day`, at least
    MIN_HISTORY same-weekday values in the WEEKS before, and a usual same-weekday volume
    ≥ min_volume. `median` is in the metric's units, `spread` the usual relative day-to-day
    variation (0.1 = ±10%), `score` how many spreads (in log terms) the day is away, capped
    at ±MAX_SCORE.
    """
    day_ts = pd.Timestamp(day)
    window = values[
        (values["date"] >= day_ts - pd.Timedelta(weeks=WEEKS)) & (values["date"] < day_ts)
    ]
    window = window.assign(log=_log(window["value"].to_numpy(dtype=float)))
    today = values[values["date"] == day_ts].set_index("channel")
    rows = []
    for channel, history in window.groupby("channel"):
        same_weekday = history[history["date"].dt.day_of_week == day_ts.day_of_week]
        if channel not in today.index or len(same_weekday) < MIN_HISTORY:
            continue
        usual_volume = float(same_weekday["volume"].median())
        if usual_volume < min_volume:
            continue
        level, scale = robust_baseline(history, weekday=day_ts.day_of_week)
        value = float(today.at[channel, "value"])
        lowest = level + np.log(HALF_AN_EVENT / usual_volume) if usual_volume else -np.inf
        score = (max(_log(np.array([value]))[0], lowest) - level) / scale
        rows.append(
            (
                channel,
                value,
                float(np.exp(level)),
                float(np.expm1(scale)),
                float(np.clip(score, -MAX_SCORE, MAX_SCORE)),
                float(today.at[channel, "volume"]),
                usual_volume,
            )
        )
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def _log(values: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(values, EPSILON))


def flag(scored: pd.DataFrame, *, threshold: float) -> pd.Series:
    """Pure: which scored rows are anomalies."""
    return scored["score"].abs() >= threshold


@dataclass(frozen=True)
class Finding:
    """One channel's judgement for one metric on one day."""

    metric: Metric
    channel: str
    day: dt.date
    value: float
    median: float
    spread: float
    score: float
    is_anomaly: bool
    sources: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        return f"anomaly:{self.metric.key}:{self.channel}"


def find_anomalies(
    *, day: dt.date, policy: AlertPolicy | None = None, lookback_days: int = LOOKBACK_DAYS
) -> list[Finding]:
    """Every judged (metric, channel, day) of the active constraint over the `lookback_days`
    ending `day`, oldest day first for each metric. Reads, never writes."""
    constraint = Constraint.objects.active()
    if constraint is None:
        return []
    policy = policy or AlertPolicy.current()
    metrics = [m for m in [constraint.headline, *constraint.drivers] if m is not None]
    first = day - dt.timedelta(days=lookback_days - 1)
    frame = load_frame(since=first - dt.timedelta(weeks=WEEKS), until=day, metrics=metrics)
    findings = []
    for metric in metrics:
        values = daily_values(frame, metric)
        fed_by = sources_of(frame, metric)
        for judged_day in each_day(first, day):
            scored = score_day(values, day=judged_day, min_volume=float(policy.anomaly_min_volume))
            scored["is_anomaly"] = flag(scored, threshold=float(policy.anomaly_threshold))
            findings += [
                Finding(
                    metric,
                    r.channel,
                    judged_day,
                    r.value,
                    r.median,
                    r.spread,
                    r.score,
                    r.is_anomaly,
                    fed_by,
                )
                for r in scored.itertuples(index=False)
            ]
    return findings


def detect_anomalies(*, day: dt.date, policy: AlertPolicy | None = None) -> list[Alert]:
    """Keep one alert per (metric, channel) open while an unusual day lies within the
    LOOKBACK_DAYS ending `day`, and resolve it once none does.

    Looking back a week (not just at `day`) means an anomaly is seen even when its day's data
    arrived late or the chain did not run that day. A (metric, channel) that could not be
    judged at all keeps its alert as it is. Returns the alerts open after this run.
    """
    policy = policy or AlertPolicy.current()
    by_fingerprint: dict[str, list[Finding]] = defaultdict(list)
    for finding in find_anomalies(day=day, policy=policy):
        by_fingerprint[finding.fingerprint].append(finding)
    names = dict(Channel.objects.values_list("key", "name"))
    raised = []
    for fingerprint, judged in by_fingerprint.items():
        unusual = [finding for finding in judged if finding.is_anomaly]
        if not unusual:
            clear_alert(fingerprint=fingerprint)
            continue
        latest = unusual[-1]
        raised.append(
            raise_anomaly(
                latest,
                channel_name=names.get(latest.channel, latest.channel),
                threshold=float(policy.anomaly_threshold),
                group=f"anomaly:{day.isoformat()}",
            )
        )
    return raised


def raise_anomaly(finding: Finding, *, channel_name: str, threshold: float, group: str) -> Alert:
    metric = finding.metric
    went_up = finding.value > finding.median
    bad = went_up == (metric.direction == Metric.Direction.LOWER)
    return raise_alert(
        kind=Alert.Kind.ANOMALY,
        fingerprint=finding.fingerprint,
        severity=Alert.Severity.WARNING if bad else Alert.Severity.INFO,
        title=describe(finding, channel_name=channel_name),
        body=explain(finding, channel_name=channel_name, threshold=threshold),
        data={
            "metric": metric.key,
            "channel": finding.channel,
            "day": finding.day.isoformat(),
            "value": finding.value,
            "baseline": finding.median,
            "spread": finding.spread,
            "score": round(finding.score, 2),
            "threshold": threshold,
        },
        target=f"channel:{finding.channel}",
        group=group,
        sources=finding.sources,
    )


def describe(finding: Finding, *, channel_name: str) -> str:
    verb = "jumped" if finding.value > finding.median else "dropped"
    value = format_value(finding.value, finding.metric)
    usual = format_value(finding.median, finding.metric)
    return (
        f"{finding.metric.label} on {channel_name} {verb} to {value} on {finding.day:%a %d %b} "
        f"(usually {usual})"
    )


def explain(finding: Finding, *, channel_name: str, threshold: float) -> str:
    weekday = finding.day.strftime("%A")
    return (
        f"On {finding.day:%a %d %b %Y}, {finding.metric.label} on {channel_name} was "
        f"{format_value(finding.value, finding.metric)} against a usual "
        f"{format_value(finding.median, finding.metric)} "
        f"on the last {WEEKS} {weekday}s, which usually vary by ±{finding.spread:.0%}: "
        f"{abs(finding.score):.1f} deviations away; alerts start at {threshold:g}."
        + _target(finding.metric)
    )


def _target(metric: Metric) -> str:
    if metric.target is None:
        return ""
    return f" Target: {format_value(float(metric.target), metric)}."


def sources_of(frame: pd.DataFrame, metric: Metric) -> tuple[str, ...]:
    """Pure: the source keys whose rows feed this metric in the frame."""
    rows = frame[frame["measure"].isin(metric.numerator_measures + metric.denominator_measures)]
    if metric.source_kinds:
        rows = rows[rows["source_kind"].isin(metric.source_kinds)]
    return tuple(sorted(rows["source"].unique()))
