"""Precision and recall of the anomaly detector on synthetic daily series, beside two peers.

    benchmarks/anomalies [--seeds 30] [--first-seed 6] [--threshold 3] [--small-threshold T]
                         [--min-volume 20] [--no-peers] [--jobs 1]

Each channel gets a year of days (after 8 weeks of warm-up) of a conversion-rate-like ratio:
a denominator (sessions) with weekly seasonality, a trend and day-to-day noise, and a
numerator drawn as Poisson counts around a rate that has its own weekly pattern, drift and
extra day-to-day noise (overdispersion). About 3% of days get an injected anomaly: the
numerator multiplied by 0.3-0.5 or 2-3 on one day. Channels range from ~140 conversions a day
down to ~40, plus one of ~10 ("small") and one of ~4 ("tiny").

The detector's constants were fixed on seeds 1-5; the default reports 30 other seeds (6-35).
Defaults are the alert policy's. Each channel-day is judged as the product judges it: alone
when its usual count that weekday reaches the minimum volume ("big channels' days"), else
pooled with the days before it until it does, up to a week ("small channels' days"), and
flagged from the product's pooled threshold (a share of the policy's). For the big channels'
days, precision, recall and false alerts per channel per quarter are pooled over the days,
per seed and per group of five seeds too. For the small channels' days a judgement counts as
right when an injected anomaly lies among its days, an anomaly as found when a flagged
judgement's days include one of its days, and every false judgement counts (the product
keeps one alert open over consecutive ones).

Small channels are then judged again on a year of their own (a separate random stream) whose
anomalies, of the same sizes, last 3-10 days, again ~3% of days: pooling days is meant for
the problems of a small channel, which last (a tracking break, a broken form, a price change),
and dilutes a one-day change; both figures are printed.

The peers — a pooled weekday-median/MAD z-score of the log-ratio, and the residual of a robust
STL (statsmodels) of the 8 weeks and the day — judge each day alone; each is given the
threshold at which it raises as many false alerts as ours, for the big and for the small
channels' days, and its recall and precision printed beside ours. Their scores depend only on
the series, so they are computed once per seed and kept in var/benchmark-cache (named by a
digest of the generator's and the peers' code and the libraries' versions): the STL fits are
most of a first run's time. --jobs runs seeds in parallel processes (the same figures).
Last, the time to score 50 channels × 4 metrics over the 7 days an alert looks back (8 weeks
of history each), ours beside the median/MAD peer's. Precision depends on how common
anomalies are (3% of days here); false alerts per channel per quarter do not.
"""

import argparse
import datetime as dt
import multiprocessing
import os
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "decisionhub.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-throwaway-secret")

import django  # noqa: E402

django.setup()

from constraints.alerts import anomalies  # noqa: E402
from constraints.models import AlertPolicy  # noqa: E402

START = dt.date(2025, 1, 6)
WARMUP_DAYS = 56
DAYS = 365
WEEKLY = np.array([1.0, 1.05, 1.07, 1.02, 0.94, 0.7, 0.65])
RATE_WEEKLY = np.array([1.0, 1.02, 1.03, 1.0, 0.97, 0.9, 0.88])
# (channel, sessions per day, conversion rate): the last two are below the default min volume.
CHANNELS = [
    ("search", 4000, 0.035),
    ("social", 2500, 0.024),
    ("organic", 1800, 0.027),
    ("email", 900, 0.05),
    ("linkedin", 1200, 0.035),
    ("referral", 2000, 0.02),
    ("small", 400, 0.025),
    ("tiny", 120, 0.03),
]
SIZES = {name: sessions * rate for name, sessions, rate in CHANNELS}  # conversions a day
ANOMALY_SHARE = 0.03
SMALL = ("small", "tiny")  # below the default min volume: judged over pooled days
LASTING_DAYS = (3, 10)  # the shortest and longest lasting anomaly, in days
QUARTER = 91.25  # days
CACHE = Path(__file__).resolve().parent.parent / "var" / "benchmark-cache"


def series(rng: np.random.Generator, sessions: float, rate: float, *, lasting: bool = False):
    """One channel's days: date, sessions, conversions, injected (factor or 1), episode (the
    anomaly a day belongs to, numbered from 1; 0 for none). One-day anomalies unless
    `lasting` (see `lasting_factors`)."""
    n = WARMUP_DAYS + DAYS
    days = pd.date_range(START, periods=n, freq="D")
    weekday = days.day_of_week.to_numpy()
    t = np.arange(n)
    volume = sessions * WEEKLY[weekday] * (1 + 0.0008 * t) * rng.lognormal(0, 0.08, n)
    true_rate = rate * RATE_WEEKLY[weekday] * (1 + 0.1 * np.sin(t / 58)) * rng.lognormal(0, 0.06, n)
    factor, episode = lasting_factors(rng, n) if lasting else one_day_factors(rng, n)
    conversions = rng.poisson(volume * true_rate * factor)
    return pd.DataFrame(
        {
            "date": days,
            "sessions": volume.round(),
            "conversions": conversions,
            "factor": factor,
            "episode": episode,
        }
    )


def one_day_factors(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """About ANOMALY_SHARE of the days after warm-up multiplied by 0.3-0.5 or 2-3, each alone."""
    factor = np.ones(n)
    hit = rng.random(n) < ANOMALY_SHARE
    hit[:WARMUP_DAYS] = False
    low = rng.random(n) < 0.5
    factor[hit & low] = rng.uniform(0.3, 0.5, n)[hit & low]
    factor[hit & ~low] = rng.uniform(2.0, 3.0, n)[hit & ~low]
    return factor, np.where(hit, np.cumsum(hit), 0)


def lasting_factors(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Anomalies that last LASTING_DAYS (a tracking break, a broken form, a price change: the
    problems of a small channel that pooled days are for), of the one-day anomalies' sizes
    (0.3-0.5 or 2-3), starting apart so that about ANOMALY_SHARE of the days are in one."""
    factor, episode = np.ones(n), np.zeros(n, dtype=int)
    low, high = LASTING_DAYS
    mean_length = (low + high) / 2
    mean_gap = mean_length / ANOMALY_SHARE - mean_length - 1
    day, number = WARMUP_DAYS + int(rng.exponential(mean_gap)), 0
    while day < n:
        length = int(rng.integers(low, high + 1))
        size = rng.uniform(0.3, 0.5) if rng.random() < 0.5 else rng.uniform(2.0, 3.0)
        number += 1
        factor[day : day + length], episode[day : day + length] = size, number
        day += length + 1 + int(rng.exponential(mean_gap))
    return factor, episode


def values_frame(days: pd.DataFrame, channel: str) -> pd.DataFrame:
    ratio = days["conversions"] / days["sessions"]
    volume = np.fmin(days["conversions"], days["sessions"]).astype(float)
    return pd.DataFrame(
        {
            "date": days["date"],
            "channel": channel,
            "value": ratio,
            "volume": volume,
            "volume_in_numerator": days["conversions"] <= days["sessions"],
            "exposure": np.fmax(days["conversions"], days["sessions"]).astype(float),
        }
    )


def year(seed: int, *, lasting: bool) -> list[tuple[str, pd.DataFrame]]:
    """One seed's channels and their days: every channel with one-day anomalies, or (lasting)
    the SMALL channels with lasting ones, drawn from a stream of their own."""
    if not lasting:
        rng = np.random.default_rng(seed)
        return [(name, series(rng, sessions, rate)) for name, sessions, rate in CHANNELS]
    rng = np.random.default_rng([seed, 1])
    return [
        (name, series(rng, sessions, rate, lasting=True))
        for name, sessions, rate in CHANNELS
        if name in SMALL
    ]


def scored_year(
    seed: int, *, min_volume: float, lasting: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One synthetic year, judged as the product judges it: every channel-day by ours (a
    small channel's over the days pooled to reach `min_volume`) and the peers (each day
    alone). Returns the judgements (seed, channel, day, days, usual, actual, ours,
    median_mad, stl: `actual` when an injected anomaly lies among the days judged) and the
    truth (seed, channel, day, actual, episode) of every judged-for day."""
    frames, truth = [], []
    for name, days in year(seed, lasting=lasting):
        frames.append(values_frame(days, name))
        truth.append(
            pd.DataFrame(
                {
                    "channel": name,
                    "day": days["date"],
                    "actual": days["factor"] != 1,
                    "episode": days["episode"],
                }
            )
        )
    values = pd.concat(frames, ignore_index=True)
    judged_days = [START + dt.timedelta(days=k) for k in range(WARMUP_DAYS, WARMUP_DAYS + DAYS)]
    ours = anomalies.score_days(values, days=judged_days, min_volume=min_volume)
    scored = pd.DataFrame(
        {
            "channel": ours["channel"],
            "day": ours["day"],
            "days": ours["days"].astype(int),
            "usual": ours["usual_volume"],
            "ours": ours["score"],
        }
    )
    if PEERS:
        peers = cached_peers(values, seed=seed, lasting=lasting, days=judged_days)
        scored = scored.merge(peers, on=["channel", "day"], how="left")
    truth = pd.concat(truth, ignore_index=True)
    truth = truth[truth["day"] >= pd.Timestamp(judged_days[0])]
    scored["actual"] = covers_anomaly(scored, truth)
    return scored.assign(seed=seed), truth.assign(seed=seed)


def cached_peers(
    values: pd.DataFrame, *, seed: int, lasting: bool, days: list[dt.date]
) -> pd.DataFrame:
    """The peers' scores (channel, day, median_mad, stl) of one seed's year, computed once:
    they depend only on the generated series and the peers' code, whose source (with the
    libraries' versions) names the cache file in var/benchmark-cache, so that a change to
    either computes them afresh. Most of the benchmark's time is the STL fits."""
    path = (
        CACHE / f"anomaly-peers-{peer_fingerprint()}-{'lasting' if lasting else 'day'}-{seed}.csv"
    )
    if path.exists():
        return pd.read_csv(path, parse_dates=["day"])
    peers = pd.concat([peer_scores(values, day=day) for day in days], ignore_index=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    peers.to_csv(path, index=False, float_format="%.17g")
    return peers


def peer_fingerprint() -> str:
    """A digest of everything the peers' scores depend on."""
    import hashlib
    import inspect

    import statsmodels

    parts = [
        inspect.getsource(code)
        for code in (
            series,
            one_day_factors,
            lasting_factors,
            year,
            values_frame,
            peer_scores,
            median_mad_scores,
            stl_scores,
            anomalies.history_arrays,
            anomalies._mads,
            anomalies._nanmedians,
        )
    ]
    constants = (START, WARMUP_DAYS, DAYS, WEEKLY.tolist(), RATE_WEEKLY.tolist(), CHANNELS)
    parts += [repr(constants), repr((ANOMALY_SHARE, SMALL, LASTING_DAYS, anomalies.WEEKS))]
    parts += [np.__version__, pd.__version__, statsmodels.__version__]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def peer_scores(values: pd.DataFrame, *, day: dt.date) -> pd.DataFrame:
    window = anomalies.history_arrays(values, day=day)
    if window is None:
        return pd.DataFrame(columns=["channel", "median_mad", "stl", "day"])
    scores = pd.DataFrame({"median_mad": median_mad_scores(window), "stl": stl_scores(window)})
    return scores.rename_axis("channel").reset_index().assign(day=pd.Timestamp(day))


def covers_anomaly(scored: pd.DataFrame, truth: pd.DataFrame) -> pd.Series:
    """Whether an injected anomaly lies among each judgement's days."""
    hits = set(truth.loc[truth["actual"], ["channel", "day"]].itertuples(index=False))
    return pd.Series(
        [
            any((channel, day - pd.Timedelta(days=back)) in hits for back in range(days))
            for channel, day, days in scored[["channel", "day", "days"]].itertuples(index=False)
        ],
        index=scored.index,
    )


def median_mad_scores(window) -> pd.Series:
    """The peer: (log value - same weekday's median over 8 weeks) / the MAD of every day's
    distance to its weekday's median, pooled (as a normal standard deviation); `window` as
    anomalies.history_arrays returns it."""
    channels, logs, _, today = window
    medians = np.nanmedian(logs, axis=1, keepdims=True)
    residuals = (logs - medians).reshape(len(channels), -1)
    sigma = np.maximum(anomalies._mads(residuals) * anomalies.MAD_TO_SIGMA, 1e-9)
    log_today = np.log(np.maximum(today["value"].to_numpy(dtype=float), anomalies.EPSILON))
    return pd.Series((log_today - medians[:, 0, 0]) / sigma, index=channels)


def stl_scores(window) -> pd.Series:
    """The peer: a robust STL (weekly period) of each channel's log-values over the 8 weeks
    and the day; the day's residual over the MAD of the 8 weeks' residuals."""
    from statsmodels.tsa.seasonal import STL

    channels, logs, _, today = window
    log_today = np.log(np.maximum(today["value"].to_numpy(dtype=float), anomalies.EPSILON))
    scores = {}
    for i, channel in enumerate(channels):
        days = pd.Series(np.append(logs[i].reshape(-1), log_today[i])).interpolate(
            limit_direction="both"
        )
        if days.isna().any():
            continue
        residuals = STL(days.to_numpy(), period=7, robust=True).fit().resid
        sigma = max(anomalies._mads(residuals[None, :-1])[0] * anomalies.MAD_TO_SIGMA, 1e-9)
        scores[channel] = residuals[-1] / sigma
    return pd.Series(scores, dtype=float)


PEERS = True
GROUP = 5


def counts(frame: pd.DataFrame, column: str, threshold: float) -> dict[str, int]:
    """Each day judged alone: flagged anomalous days over flagged days and over anomalies."""
    flagged = frame[column].abs() >= threshold
    actual = frame["actual"]
    return {
        "hits": int((flagged & actual).sum()),
        "fp": int((flagged & ~actual).sum()),
        "found": int((flagged & actual).sum()),
        "anomalies": int(actual.sum()),
        "judged": len(frame),
    }


def matched_threshold(frame: pd.DataFrame, column: str, false_alerts: int) -> float:
    """The threshold at which `column` raises `false_alerts` false alerts on these days."""
    normal = frame.loc[~frame["actual"], column].abs().dropna().sort_values(ascending=False)
    if false_alerts >= len(normal):
        return 0.0
    return float(normal.iloc[false_alerts]) + 1e-12


def main() -> None:
    global PEERS
    parser = argparse.ArgumentParser(
        description=__doc__.strip().splitlines()[0],
        epilog="\n".join(__doc__.strip().splitlines()[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--threshold", type=float, default=_default("anomaly_threshold"))
    parser.add_argument(
        "--small-threshold",
        type=float,
        help="for days judged together (default: the product's share of --threshold)",
    )
    parser.add_argument("--min-volume", type=float, default=_default("anomaly_min_volume"))
    parser.add_argument("--seeds", type=int, default=30, help="independent synthetic years")
    parser.add_argument("--first-seed", type=int, default=6, help="1 for the tuning seeds 1-5")
    parser.add_argument("--no-peers", action="store_true", help="ours only (faster)")
    parser.add_argument("--jobs", type=int, default=1, help="seeds scored in parallel")
    args = parser.parse_args()
    PEERS = not args.no_peers
    if args.small_threshold is None:
        args.small_threshold = float(anomalies.threshold_for(2, threshold=args.threshold))
    print(
        f"threshold {args.threshold:g} ({args.small_threshold:g} for days judged together), "
        f"min volume {args.min_volume:g} expected events/day; "
        f"{len(CHANNELS)} channels x {DAYS} days per seed, seeds {args.first_seed}-"
        f"{args.first_seed + args.seeds - 1}"
    )
    started = time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    years = scored_years(seeds, args, lasting=False)
    everything = pd.concat([judged for judged, _ in years], ignore_index=True)
    truth = pd.concat([days for _, days in years], ignore_index=True)
    sizeable = everything[everything["days"] == 1]
    pooled = everything[everything["days"] > 1]
    alone = set(sizeable[["seed", "channel", "day"]].itertuples(index=False))
    keys = truth[["seed", "channel", "day"]].itertuples(index=False)
    small_truth = truth[[key not in alone for key in keys]]
    print_seeds(sizeable, args.threshold)
    print_groups(sizeable, args.threshold, first=args.first_seed)
    ours = counts(sizeable, "ours", args.threshold)
    print(f"all seeds, big channels' days (judged alone): {summary(ours)}")
    print_channels(sizeable, pooled, small_truth, args.threshold, args.small_threshold)
    small = pooled_counts(pooled, small_truth, "ours", args.small_threshold)
    print(f"small channels' days (below the minimum volume, pooled): {summary(small)}")
    full = pooled_counts(pooled, small_truth, "ours", args.threshold)
    print(f"  at the threshold of days judged alone ({args.threshold:g}): {summary(full)}")
    print(f"  days judged together: {describe_lengths(pooled)}")
    if PEERS:
        print_peers(sizeable, ours, label="big channels' days")
        print_small_peers(pooled, small_truth, small, label="small channels' days")
    print_lasting(seeds, args)
    print(f"scored in {time.perf_counter() - started:.1f}s")
    print_speed()


def scored_years(seeds: range, args: argparse.Namespace, *, lasting: bool) -> list:
    """`scored_year` of each seed, in `args.jobs` processes."""
    score = partial(scored_year, min_volume=args.min_volume, lasting=lasting)
    if args.jobs <= 1:
        return [score(seed) for seed in seeds]
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        return pool.map(score, seeds)


def print_lasting(seeds: range, args: argparse.Namespace) -> None:
    """The small channels again, with anomalies that last LASTING_DAYS instead of one day."""
    years = scored_years(seeds, args, lasting=True)
    everything = pd.concat([judged for judged, _ in years], ignore_index=True)
    truth = pd.concat([days for _, days in years], ignore_index=True)
    pooled = everything[everything["days"] > 1]
    low, high = LASTING_DAYS
    print(
        f"small channels, anomalies lasting {low}-{high} days instead (an anomaly found when a "
        "flagged judgement's days include one of its days):"
    )
    small = pooled_counts(pooled, truth, "ours", args.small_threshold)
    for name in SMALL:
        c = pooled_counts(
            pooled[pooled["channel"] == name],
            truth[truth["channel"] == name],
            "ours",
            args.small_threshold,
        )
        print(f"  {name:<9} {summary(c)}")
    print(f"  both      {summary(small)}")
    if PEERS:
        print_small_peers(pooled, truth, small, label="small channels' lasting anomalies")


def print_small_peers(
    pooled: pd.DataFrame, truth: pd.DataFrame, ours: dict[str, int], *, label: str
) -> None:
    """The peers judge each small channel's day alone, at our false-alert count there."""
    by_day = truth.merge(pooled.drop(columns=["actual", "days"]), on=["seed", "channel", "day"])
    by_day = by_day.assign(days=1)
    print(f"at our false-alert count ({ours['fp']}), {label}, the peers judging each day alone:")
    print(f"  ours                      {summary(ours)}")
    for column, name in (("median_mad", "weekday median/MAD"), ("stl", "STL residual")):
        threshold = matched_threshold(by_day, column, ours["fp"])
        c = pooled_counts(by_day.dropna(subset=[column]), truth, column, threshold)
        print(f"  {name:<19} ≥{threshold:4.2f} {summary(c)}")


def summary(c: dict[str, int]) -> str:
    """Precision: flagged judgements with an anomaly among their days, over all flagged;
    recall: anomalies among the days of a flagged judgement, over all anomalies."""
    return (
        f"precision {_ratio(c['hits'], c['hits'] + c['fp'])}  "
        f"recall {_ratio(c['found'], c['anomalies'])}"
        f"  false {c['fp']}  false/channel/quarter {_per_quarter(c['fp'], c['judged'])}"
        f"  anomalies {c['anomalies']}"
    )


def pooled_counts(
    judged: pd.DataFrame, truth: pd.DataFrame, column: str, threshold: float
) -> dict[str, int]:
    """`counts` for judgements over several days: an anomaly (an episode of one day or more)
    is found when a flagged judgement's days include one of its days; a false alert is a
    flagged judgement whose days hold none (each day's judgement counted: consecutive false
    judgements of one noisy day each count, where the product keeps one alert open)."""
    flagged = judged[judged[column].abs() >= threshold]
    covered = {
        (seed, channel, day - pd.Timedelta(days=back))
        for seed, channel, day, days in flagged[["seed", "channel", "day", "days"]].itertuples(
            index=False
        )
        for back in range(days)
    }
    anomalous = truth[truth["actual"]]
    keys = anomalous[["seed", "channel", "day"]].itertuples(index=False)
    anomalous = anomalous.assign(found=[key in covered for key in keys])
    episodes = anomalous.groupby(["seed", "channel", "episode"])["found"].any()
    return {
        "hits": int(flagged["actual"].sum()),
        "fp": int((~flagged["actual"]).sum()),
        "found": int(episodes.sum()),
        "anomalies": len(episodes),
        "judged": len(judged),
    }


def describe_lengths(pooled: pd.DataFrame) -> str:
    """How many days the small channels' judgements pooled, as shares of each channel's."""
    parts = []
    for channel, rows in pooled.groupby("channel", sort=False):
        shares = rows["days"].value_counts(normalize=True).sort_index()
        parts.append(f"{channel} " + ", ".join(f"{d}d {v:.0%}" for d, v in shares.items()))
    return "; ".join(parts)


def print_seeds(frame: pd.DataFrame, threshold: float) -> None:
    print("seed  judged  anomalies  precision  recall  false  false/channel/quarter")
    for seed, year in frame.groupby("seed"):
        c = counts(year, "ours", threshold)
        print(
            f"{seed:>4}  {c['judged']:>6}  {c['anomalies']:>9}  "
            f"{_ratio(c['hits'], c['hits'] + c['fp']):>9}  "
            f"{_ratio(c['found'], c['anomalies']):>6}  "
            f"{c['fp']:>5}  {_per_quarter(c['fp'], c['judged']):>21}"
        )


def print_groups(frame: pd.DataFrame, threshold: float, *, first: int) -> None:
    worst_p, worst_r = 1.0, 1.0
    for group, seeds in frame.groupby((frame["seed"] - first) // GROUP):
        c = counts(seeds, "ours", threshold)
        p, r = c["hits"] / max(c["hits"] + c["fp"], 1), c["found"] / max(c["anomalies"], 1)
        worst_p, worst_r = min(worst_p, p), min(worst_r, r)
        low = first + group * GROUP
        print(f"seeds {low}-{low + GROUP - 1}: precision {p:.3f}  recall {r:.3f}")
    print(f"worst group of {GROUP} seeds: precision {worst_p:.3f}  recall {worst_r:.3f}")


def print_channels(
    alone: pd.DataFrame,
    pooled: pd.DataFrame,
    small_truth: pd.DataFrame,
    threshold: float,
    small_threshold: float,
) -> None:
    print(
        "channel   conversions/day  judged alone  recall  false/quarter  "
        "(pooled: recall, false/quarter)"
    )
    for name, _, _ in CHANNELS:
        inside = alone[alone["channel"] == name]
        outside = pooled[pooled["channel"] == name]
        truth = small_truth[small_truth["channel"] == name]
        a = counts(inside, "ours", threshold)
        b = pooled_counts(outside, truth, "ours", small_threshold)
        share = len(inside) / max(len(inside) + len(outside), 1)
        print(
            f"{name:<9} {SIZES[name]:>15.0f}  {share:>12.0%}  "
            f"{_ratio(a['found'], a['anomalies']):>6}  {_per_quarter(a['fp'], a['judged']):>13}  "
            f"({_ratio(b['found'], b['anomalies'])}, {_per_quarter(b['fp'], b['judged'])})"
        )


def print_peers(frame: pd.DataFrame, ours: dict[str, int], *, label: str) -> None:
    print(f"at our false-alert count ({ours['fp']}), {label}:")
    print(f"  ours                      {summary(ours)}")
    for column, name in (("median_mad", "weekday median/MAD"), ("stl", "STL residual")):
        threshold = matched_threshold(frame, column, ours["fp"])
        c = counts(frame.dropna(subset=[column]), column, threshold)
        print(f"  {name:<19} ≥{threshold:4.2f} {summary(c)}")


def print_speed() -> None:
    """50 channels × 4 metrics, 8 weeks of history, the 7 days an alert looks back."""
    rng = np.random.default_rng(0)
    sizes = rng.uniform(40, 140, 50)
    days = WARMUP_DAYS + anomalies.LOOKBACK_DAYS
    metrics = [
        pd.concat(
            [
                values_frame(series(rng, s / 0.03, 0.03).iloc[:days], f"ch-{i:02d}")
                for i, s in enumerate(sizes)
            ],
            ignore_index=True,
        )
        for _ in range(4)
    ]
    judged = [START + dt.timedelta(days=WARMUP_DAYS + k) for k in range(anomalies.LOOKBACK_DAYS)]

    def ours():
        for values in metrics:
            for day in judged:
                anomalies.score_day(values, day=day, min_volume=20)

    def peer():
        for values in metrics:
            for day in judged:
                window = anomalies.history_arrays(values, day=day)
                if window is not None:
                    median_mad_scores(window)

    timed = {}
    for name, fn in (("ours", ours), ("peer", peer)):
        started = time.perf_counter()
        fn()
        timed[name] = time.perf_counter() - started
    print(
        f"detection, 50 channels × 4 metrics × 7 days (8 weeks each): {timed['ours']:.2f}s; "
        f"weekday median/MAD peer {timed['peer']:.2f}s (ratio {timed['ours'] / timed['peer']:.1f})"
    )


def _default(field: str) -> float:
    return float(AlertPolicy._meta.get_field(field).default)


def _per_quarter(false: int, judged_days: int) -> str:
    """False alerts per channel per quarter of judged days."""
    return f"{false / judged_days * QUARTER:.2f}" if judged_days else "n/a"


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "n/a"


if __name__ == "__main__":
    main()
