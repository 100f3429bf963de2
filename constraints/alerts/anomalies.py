"""Anomalies: a day on which a metric breaks its own pattern in one channel.

The metric is the ratio of sums per day and channel (constraints.metrics). Its day-to-day
noise is mostly counting noise: a conversion rate moves because a few conversions more or
less happened, and that noise shrinks as the count grows. So a day is judged by its count:

- the baseline is the median log-value of the same weekday over the previous eight weeks,
  carried to today by how far the last three weeks sit from their weekday medians (a drifting
  metric is no anomaly), and the expected count is the same weekday's median volume (the
  counted side of the ratio, e.g. conversions for a conversion rate or a cost per
  acquisition);
- the day's value, read as a count against that expected count, gets a tail probability under
  a Poisson count whose rate also varies from day to day by the channel's own extra noise
  ("overdispersion", estimated from the eight weeks' residuals, clipped at 3 MADs, beyond what
  counting explains) and by the uncertainty of the median;
- the score is that probability as a signed number of normal standard deviations, so that the
  threshold (AlertPolicy.anomaly_threshold) means the same in a channel of 30 events a day as
  in one of 3,000. Whole-number counts are taken to be at least as noisy as Poisson; when a
  history of fractional counts (modelled conversions) is steadier than that, they are read
  as that much more informative.

Channels whose expected count on that weekday, in Poisson events' worth, is below
`min_volume` (AlertPolicy.anomaly_min_volume) are not judged that day: with fewer than ~20
expected events even a doubling is mostly lost in counting noise, and a halving nearly always.

`daily_values`, `score_day` and `flag` are pure (frames in, frames out); `find_anomalies`
reads the database and `detect_anomalies` opens and resolves alerts. Figures:
benchmarks/anomalies.py.
"""

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from constraints.alerting import clear_alert, raise_alert
from constraints.alerts.rendering import format_value
from constraints.metrics import load_frame, ratio_of_sums
from constraints.models import Alert, AlertPolicy, Constraint, Metric
from sources.days import each_day
from sources.models import Channel

WEEKS = 8
LOOKBACK_DAYS = 7  # an alert stays open while an unusual day lies this close to today
MIN_HISTORY = 4  # same-weekday values needed before a day can be judged
MAD_TO_SIGMA = 1.4826  # makes the MAD estimate a normal distribution's standard deviation
# A very steady series has a tiny spread, and then a 15% move would score like a collapse. The
# floor (in log terms, ~8%) keeps moves smaller than about ×1.3 or ×0.75 from ever raising an
# alert at the default threshold: below that, a day is not news for a founder.
MIN_SCALE = 0.08
# Below this, a history steadier than Poisson counts says its "counts" are not independent
# events; the floor keeps the count model from becoming infinitely sure.
MIN_DISPERSION = 0.1
# A MAD of ~56 residuals misses the true spread by ±30% and more; real counts are at least as
# noisy as Poisson, so a history is only read as steadier than that when its spread is below
# half of what counting alone would give. Without this, chance calm weeks made scores overshoot.
SAMPLING_ALLOWANCE = 2.0
# The same estimate makes the extra noise uncertain too, and a day's score in a busy channel
# (where extra noise is most of the spread) would overshoot as often; fixed on seeds 1-5 of
# benchmarks/anomalies.py with the clipped variance below (1.5 with a plain MAD).
EXTRA_ALLOWANCE = 1.2
# The spread is the variance of the residuals within this many robust deviations.
CLIP_SIGMAS = 3.0
# A normal variable's variance within ±3 deviations, as a share of its whole variance.
CLIPPED_SHARE = 1 - 2 * CLIP_SIGMAS * math.exp(-(CLIP_SIGMAS**2) / 2) / math.sqrt(2 * math.pi) / (
    math.erf(CLIP_SIGMAS / math.sqrt(2))
)
RECENT_DAYS = 21  # the days whose level carries the weekday medians to today
HALF_AN_EVENT = 0.5  # a usual volume of zero events is read as half an event
MAX_SCORE = 99.0
EPSILON = 1e-9  # a value of zero is a collapse, scored as far below anything usual
# Gauss-Hermite nodes (probabilists') to average the Poisson tail over the log-normal noise.
NODES, WEIGHTS = np.polynomial.hermite_e.hermegauss(24)
WEIGHTS = WEIGHTS / WEIGHTS.sum()
NORMAL = NormalDist()
SCORE_COLUMNS = ["channel", "value", "median", "spread", "score", "volume", "usual_volume"]


def daily_values(frame: pd.DataFrame, metric: Metric) -> pd.DataFrame:
    """Pure: one row per day and channel with columns date, channel, value, volume,
    volume_in_numerator.

    `volume` is the smaller of the day's numerator and denominator sums (for a conversion rate
    the conversions, for a cost per lead the leads): the count whose size decides how noisy
    the ratio is; `volume_in_numerator` says which side it is (a rising count raises a
    conversion rate but lowers a cost per lead). Days without a value (no rows, zero
    denominator) are absent.
    """
    if metric.source_kinds:
        frame = frame[frame["source_kind"].isin(metric.source_kinds)]
    by = ["date", "channel"]
    value = ratio_of_sums(frame, metric, by=by).rename("value")
    numerator = _sums(frame, metric.numerator_measures, by)
    volume, in_numerator = numerator, pd.Series(True, index=numerator.index)
    if metric.denominator_measures:
        numerator, denominator = numerator.align(_sums(frame, metric.denominator_measures, by))
        in_numerator = ~(denominator < numerator)
        volume = numerator.where(in_numerator, denominator)
    joined = pd.concat(
        [value, volume.rename("volume"), in_numerator.rename("volume_in_numerator")], axis=1
    ).dropna(subset=["value"])
    joined = joined.fillna({"volume": 0.0, "volume_in_numerator": True})
    return joined.astype({"volume_in_numerator": bool}).reset_index()


def _sums(frame: pd.DataFrame, measures: list[str], by: list[str]) -> pd.Series:
    rows = frame[frame["measure"].isin(measures)]
    return rows.groupby(by)["value"].sum().astype(float)


@dataclass(frozen=True)
class Baseline:
    """What one channel's weekday usually looks like, in logs of the metric's value.

    `expected` is the usual count on that weekday; `dispersion` scales counting noise (1 for
    Poisson counts, less when the history is steadier than that); `extra` is the variance of
    the log-value beyond counting noise; `level_variance` the uncertainty of `level` itself.
    """

    level: float
    expected: float
    dispersion: float
    extra: float
    level_variance: float

    @property
    def events(self) -> float:
        """The expected count, in Poisson events' worth: a history steadier than Poisson
        counts tells more than its raw count (modelled, fractional conversions)."""
        return self.expected / self.dispersion

    @property
    def variance(self) -> float:
        """The usual day-to-day variance of the log-value on this weekday."""
        return self.dispersion / self.expected + self.extra


@dataclass(frozen=True)
class Baselines:
    """Baselines of many channels at once: each field an array, one value per channel."""

    level: np.ndarray
    expected: np.ndarray
    dispersion: np.ndarray
    extra: np.ndarray
    level_variance: np.ndarray

    @property
    def events(self) -> np.ndarray:
        return self.expected / self.dispersion

    @property
    def variance(self) -> np.ndarray:
        return self.dispersion / self.expected + self.extra


def robust_baselines(logs: np.ndarray, volumes: np.ndarray) -> Baselines:
    """Pure and vectorised: each channel's baseline for the judged day's weekday from its
    past WEEKS weeks, given as arrays (channel, week, weekday) of log-values and volumes,
    NaN where a day has no value, whose weekday column 0 is the judged day's weekday and
    whose last day is the day before the judged one.

    The level is the median of the same weekday's log-values plus the median distance of the
    last RECENT_DAYS (before the channel's latest day with a value) to their weekday medians
    (drift); the expected count is the median of the same weekday's volumes. The spread pools
    every day of the window: the variance of each day's distance to its own weekday's median,
    clipped at CLIP_SIGMAS robust deviations (56 pooled points are steadier than 8). The part
    counting explains (1/count per day) is taken out and the rest is overdispersion;
    fractional counts whose history is clearly steadier than Poisson get a dispersion below 1
    (see `_dispersions`).
    """
    channels = logs.shape[0]
    flat_logs = logs.reshape(channels, -1)
    residuals = (logs - np.nanmedian(logs, axis=1, keepdims=True)).reshape(channels, -1)
    same, same_volumes = logs[:, :, 0], volumes[:, :, 0]
    n = np.sum(~np.isnan(same), axis=1)
    # Residuals around an n-point median understate the spread by about (n - 1) / n.
    observed = _clipped_variances(residuals) * n / (n - 1)
    flat_volumes = volumes.reshape(channels, -1)
    counting = np.nanmedian(1 / np.maximum(flat_volumes, HALF_AN_EVENT), axis=1)
    dispersion = _dispersions(observed / counting, flat_volumes)
    expected = np.maximum(np.nanmedian(same_volumes, axis=1), HALF_AN_EVENT)
    extra = np.maximum(observed - dispersion * counting, 0.0) * EXTRA_ALLOWANCE
    extra = np.maximum(extra, MIN_SCALE**2 - dispersion / expected)
    variance = dispersion / expected + extra
    # The weekday's median sits about a month back; the recent days' median distance to their
    # weekday medians carries it to today, so a drifting metric does not look anomalous.
    position = np.arange(flat_logs.shape[1])
    latest = np.max(np.where(np.isnan(flat_logs), -1, position), axis=1)
    recent = (position >= (latest - (RECENT_DAYS - 1))[:, None]) & ~np.isnan(flat_logs)
    level = np.nanmedian(same, axis=1) + np.nanmedian(np.where(recent, residuals, np.nan), axis=1)
    # The variance of an n-point median is about π/2 times that of an n-point mean.
    level_variance = math.pi / 2 * variance * (1 / n + 1 / recent.sum(axis=1))
    return Baselines(level, expected, dispersion, extra, level_variance)


def _dispersions(observed_to_counting: np.ndarray, volumes: np.ndarray) -> np.ndarray:
    """Whole-number counts are events, at least as noisy as Poisson: 1. Fractional ones
    (modelled conversions, amounts) are as noisy as their history says, within bounds."""
    whole = np.all(np.isnan(volumes) | (volumes == np.round(volumes)), axis=1)
    fractional = np.clip(SAMPLING_ALLOWANCE * observed_to_counting, MIN_DISPERSION, 1.0)
    return np.where(whole, 1.0, fractional)


def _clipped_variances(residuals: np.ndarray) -> np.ndarray:
    """Each row's variance from its residuals within CLIP_SIGMAS robust deviations (the MAD's)
    of zero, corrected for the clipping: as robust as the MAD to a few anomalous days and
    far more precise (a MAD of 56 points misses the variance by ±30%, this by about ±20%),
    which keeps chance-wide histories from hiding real drops."""
    sigma = _mads(residuals) * MAD_TO_SIGMA
    near = np.abs(residuals) <= CLIP_SIGMAS * sigma[:, None]
    kept = np.where(near, residuals, np.nan)
    return np.nanmean(kept**2, axis=1) / CLIPPED_SHARE


def _mads(values: np.ndarray) -> np.ndarray:
    """The median absolute deviation of each row, NaNs left out."""
    return np.nanmedian(np.abs(values - np.nanmedian(values, axis=1, keepdims=True)), axis=1)


def count_score(observed: float, baseline: Baseline) -> float:
    """Pure: how unusual `observed` events are against the baseline's expected count, as a
    signed number of normal standard deviations (negative: fewer than usual), capped at
    ±MAX_SCORE.

    The count is Poisson (scaled by the dispersion) around a rate that itself varies
    log-normally by the extra noise and the level's uncertainty; the tail probability is
    averaged over that variation and turned back into a normal deviate.
    """
    fields = ("level", "expected", "dispersion", "extra", "level_variance")
    many = Baselines(*(np.array([getattr(baseline, f)]) for f in fields))
    return float(count_scores(np.array([observed], dtype=float), many)[0])


def count_scores(observed: np.ndarray, baselines: Baselines) -> np.ndarray:
    """`count_score` of each channel's observed events against its baseline, vectorised."""
    sd = np.sqrt(baselines.extra + baselines.level_variance)
    rates = (baselines.expected / baselines.dispersion)[:, None] * np.exp(sd[:, None] * NODES)
    deviance = _deviance_residuals((observed / baselines.dispersion)[:, None], rates)
    below = _normal_cdf(deviance) @ WEIGHTS
    above = _normal_cdf(-deviance) @ WEIGHTS
    low = np.maximum(_normal_ppf(np.maximum(below, 1e-300)), -MAX_SCORE)
    high = np.minimum(-_normal_ppf(np.maximum(above, 1e-300)), MAX_SCORE)
    return np.where(below < above, low, high)


def _deviance_residuals(count: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Signed Poisson deviance residuals of `count` against each rate, with the skewness
    correction that makes them close to standard normal even for small counts (Pierce &
    Schafer 1986, https://doi.org/10.1080/01621459.1986.10478369)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(count > 0, count * np.log(np.maximum(count, 1e-300) / rates), 0.0)
    deviance = np.sqrt(np.maximum(2 * (term - (count - rates)), 0.0))
    return np.sign(count - rates) * deviance + 1 / (6 * np.sqrt(rates))


_erfc = np.frompyfunc(math.erfc, 1, 1)
_inv_cdf = np.frompyfunc(NORMAL.inv_cdf, 1, 1)


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * _erfc(-z / math.sqrt(2)).astype(float)


def _normal_ppf(p: np.ndarray) -> np.ndarray:
    return _inv_cdf(np.minimum(p, 1 - 1e-16)).astype(float)


def score_day(values: pd.DataFrame, *, day: dt.date, min_volume: float) -> pd.DataFrame:
    """Pure: each sizeable channel's value on `day` against its same-weekday baseline.

    `values` has the columns of `daily_values` (`volume_in_numerator` may be left out: then
    the volume is the numerator). Returns SCORE_COLUMNS, one row per channel (in channel
    order) that has a value on `day`, at least MIN_HISTORY same-weekday values in the WEEKS
    before, and a usual same-weekday volume ≥ min_volume. `median` is in the metric's units,
    `spread` the usual relative day-to-day variation (0.1 = ±10%), `score` how unusual the day
    is in standard deviations (positive: the metric went up), capped at ±MAX_SCORE.
    """
    scored = score_days(values, days=[day], min_volume=min_volume)
    return scored.drop(columns="day").reset_index(drop=True)


def score_days(values: pd.DataFrame, *, days: list[dt.date], min_volume: float) -> pd.DataFrame:
    """Pure: `score_day` for each of `days` at once, the rows of each day (oldest first as
    given) with a `day` column. One pass over the values: every (day, channel) is an
    independent row of the same vectorised baselines, so a week's judgement costs about what
    a day's does."""
    columns = ["day", *SCORE_COLUMNS]
    windows = history_windows(values, days=days)
    rows = [(day, *window) for day, window in zip(days, windows, strict=True) if window is not None]
    if not rows:
        return pd.DataFrame(columns=columns)
    channels = np.concatenate([r[1] for r in rows])
    logs = np.concatenate([r[2] for r in rows])
    volumes = np.concatenate([r[3] for r in rows])
    today = pd.concat([r[4] for r in rows])
    judged_days = np.concatenate([np.full(len(r[1]), r[0], dtype=object) for r in rows])
    judged = np.sum(~np.isnan(logs[:, :, 0]), axis=1) >= MIN_HISTORY
    judged &= today["value"].notna().to_numpy()
    if not judged.any():
        return pd.DataFrame(columns=columns)
    baselines = robust_baselines(logs[judged], volumes[judged])
    sizeable = baselines.events >= min_volume
    if not sizeable.any():
        return pd.DataFrame(columns=columns)
    fields = ("level", "expected", "dispersion", "extra", "level_variance")
    baselines = Baselines(*(getattr(baselines, f)[sizeable] for f in fields))
    scored = _scores(channels[judged][sizeable], today[judged][sizeable], baselines)
    scored.insert(0, "day", judged_days[judged][sizeable])
    return scored


def history_arrays(values: pd.DataFrame, *, day: dt.date):
    """Pure: the channels with a value in the WEEKS before `day`, their log-values and
    volumes as (channel, week, weekday) arrays (see `robust_baselines`) and their row on `day`
    (value, volume, volume_in_numerator; NaN value where they have none). None if no channel
    has history."""
    return history_windows(values, days=[day])[0]


def history_windows(values: pd.DataFrame, *, days: list[dt.date]) -> list:
    """Pure: `history_arrays` of each of `days`, from one dense (channel, day) grid of the
    values spanning them all (one pass over the frame, then a slice per day)."""
    if not days:
        return []
    first = pd.Timestamp(min(days)) - pd.Timedelta(weeks=WEEKS)
    last = pd.Timestamp(max(days))
    span = values[(values["date"] >= first) & (values["date"] <= last)]
    if span.empty:
        return [None] * len(days)
    every = np.array(sorted(span["channel"].unique()), dtype=object)
    row = pd.Index(every).get_indexer(span["channel"])
    column = ((span["date"] - first) // pd.Timedelta(days=1)).to_numpy()
    shape = (len(every), (last - first).days + 1)
    logs, volumes = np.full(shape, np.nan), np.full(shape, np.nan)
    logs[row, column] = _log(span["value"].to_numpy(dtype=float))
    volumes[row, column] = span["volume"].to_numpy(dtype=float)
    raw = np.full(shape, np.nan)
    raw[row, column] = span["value"].to_numpy(dtype=float)
    in_numerator = None
    if "volume_in_numerator" in span:
        in_numerator = np.ones(shape, dtype=bool)
        in_numerator[row, column] = span["volume_in_numerator"].to_numpy(dtype=bool)
    out = []
    width = WEEKS * 7
    for day in days:
        end = (pd.Timestamp(day) - first).days  # the judged day's column
        window = slice(end - width, end)
        present = ~np.isnan(logs[:, window]).all(axis=1)
        if not present.any():
            out.append(None)
            continue
        channels = every[present]
        today = {"value": raw[present, end], "volume": volumes[present, end]}
        if in_numerator is not None:
            today["volume_in_numerator"] = in_numerator[present, end]
        cube = (len(channels), WEEKS, 7)
        out.append(
            (
                channels,
                logs[present, window].reshape(cube),
                volumes[present, window].reshape(cube),
                pd.DataFrame(today, index=pd.Index(channels, name="channel")),
            )
        )
    return out


def _scores(channels: np.ndarray, today: pd.DataFrame, baselines: Baselines) -> pd.DataFrame:
    value = today["value"].to_numpy(dtype=float)
    in_numerator = today.get("volume_in_numerator", pd.Series(True, index=today.index))
    sign = np.where(in_numerator.fillna(True).astype(bool).to_numpy(), 1.0, -1.0)
    # The day's value read as a count: the expected count moved as far as the value did.
    moved = sign * (_log(value) - baselines.level)
    score = sign * count_scores(baselines.expected * np.exp(moved), baselines)
    return pd.DataFrame(
        {
            "channel": channels,
            "value": value,
            "median": np.exp(baselines.level),
            "spread": np.expm1(np.sqrt(baselines.variance)),
            "score": score,
            "volume": today["volume"].to_numpy(dtype=float),
            "usual_volume": baselines.expected,
        },
        columns=SCORE_COLUMNS,
    )


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
        days = list(each_day(first, day))
        scored = score_days(values, days=days, min_volume=float(policy.anomaly_min_volume))
        scored["is_anomaly"] = flag(scored, threshold=float(policy.anomaly_threshold))
        findings += [
            Finding(
                metric,
                r.channel,
                r.day,
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
