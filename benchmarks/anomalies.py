"""Precision and recall of the anomaly detector on synthetic daily series.

    python benchmarks/anomalies.py [--threshold 4] [--min-volume 3] [--seeds 5]

Each channel gets a year of days (after 8 weeks of warm-up) of a conversion-rate-like ratio:
a denominator (sessions) with weekly seasonality, a trend and day-to-day noise, and a
numerator drawn as Poisson counts around a rate that has its own weekly pattern and drift.
About 3% of days get an injected anomaly: the numerator multiplied by 0.3-0.5 or 2-3
on one day. Channels range from ~140 conversions a day down to ~10 ("small"), plus one of
~4 a day ("tiny") that the default minimum volume skips on purpose: its anomalies are
counted as "skipped", not as misses. Prints precision, recall and false alerts per channel
per quarter, for each synthetic year and overall.
"""

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "decisionhub.settings")

import django  # noqa: E402

django.setup()

from constraints.anomalies import flag, score_day  # noqa: E402

START = dt.date(2025, 1, 6)
WARMUP_DAYS = 56
DAYS = 365
WEEKLY = np.array([1.0, 1.05, 1.07, 1.02, 0.94, 0.7, 0.65])
RATE_WEEKLY = np.array([1.0, 1.02, 1.03, 1.0, 0.97, 0.9, 0.88])
# (channel, sessions per day, conversion rate): the last one is below the default min volume.
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
ANOMALY_SHARE = 0.03


def series(rng: np.random.Generator, sessions: float, rate: float) -> pd.DataFrame:
    """One channel's days: date, sessions, conversions, injected (factor or 1)."""
    n = WARMUP_DAYS + DAYS
    days = pd.date_range(START, periods=n, freq="D")
    weekday = days.day_of_week.to_numpy()
    t = np.arange(n)
    volume = sessions * WEEKLY[weekday] * (1 + 0.0008 * t) * rng.lognormal(0, 0.08, n)
    true_rate = rate * RATE_WEEKLY[weekday] * (1 + 0.1 * np.sin(t / 58)) * rng.lognormal(0, 0.06, n)
    factor = np.ones(n)
    hit = rng.random(n) < ANOMALY_SHARE
    hit[:WARMUP_DAYS] = False
    low = rng.random(n) < 0.5
    factor[hit & low] = rng.uniform(0.3, 0.5, n)[hit & low]
    factor[hit & ~low] = rng.uniform(2.0, 3.0, n)[hit & ~low]
    conversions = rng.poisson(volume * true_rate * factor)
    return pd.DataFrame(
        {"date": days, "sessions": volume.round(), "conversions": conversions, "factor": factor}
    )


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
        }
    )


def evaluate(*, threshold: float, min_volume: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    frames, truth = [], {}
    for name, sessions, rate in CHANNELS:
        days = series(rng, sessions, rate)
        frames.append(values_frame(days, name))
        truth[name] = dict(zip(days["date"].dt.date, days["factor"] != 1, strict=True))
    values = pd.concat(frames, ignore_index=True)
    counts = {"tp": 0, "fp": 0, "fn": 0, "skipped_anomalies": 0, "judged": 0}
    fp_by_channel = dict.fromkeys(truth, 0)
    found = {channel: [0, 0] for channel in truth}  # caught, injected and judged
    for offset in range(WARMUP_DAYS, WARMUP_DAYS + DAYS):
        day = START + dt.timedelta(days=offset)
        scored = score_day(values, day=day, min_volume=min_volume)
        flagged = dict(zip(scored["channel"], flag(scored, threshold=threshold), strict=True))
        for channel in truth:
            actual = truth[channel][day]
            if channel not in flagged:
                counts["skipped_anomalies"] += actual
                continue
            counts["judged"] += 1
            predicted = bool(flagged[channel])
            counts["tp"] += predicted and actual
            counts["fn"] += actual and not predicted
            found[channel][0] += predicted and actual
            found[channel][1] += actual
            if predicted and not actual:
                counts["fp"] += 1
                fp_by_channel[channel] += 1
    return {**counts, "fp_by_channel": fp_by_channel, "found": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=4.0)
    parser.add_argument("--min-volume", type=float, default=3.0)
    parser.add_argument("--seeds", type=int, default=5, help="independent synthetic years")
    args = parser.parse_args()
    quarters = DAYS / 91.25
    print(
        f"threshold {args.threshold:g}, min volume {args.min_volume:g}; "
        f"{len(CHANNELS)} channels x {DAYS} days per seed"
    )
    print("seed  judged  anomalies  skipped  precision  recall  false  worst-channel/quarter")
    totals = {"tp": 0, "fp": 0, "fn": 0}
    found = {name: [0, 0] for name, _, _ in CHANNELS}
    false = dict.fromkeys(found, 0)
    started = time.perf_counter()
    for seed in range(1, args.seeds + 1):
        r = evaluate(threshold=args.threshold, min_volume=args.min_volume, seed=seed)
        for key in totals:
            totals[key] += r[key]
        for name in found:
            found[name][0] += r["found"][name][0]
            found[name][1] += r["found"][name][1]
            false[name] += r["fp_by_channel"][name]
        worst = max(r["fp_by_channel"].values()) / quarters
        print(
            f"{seed:>4}  {r['judged']:>6}  {r['tp'] + r['fn']:>9}  {r['skipped_anomalies']:>7}  "
            f"{_ratio(r['tp'], r['tp'] + r['fp']):>9}  {_ratio(r['tp'], r['tp'] + r['fn']):>6}  "
            f"{r['fp']:>5}  {worst:>21.2f}"
        )
    tp, fp, fn = totals["tp"], totals["fp"], totals["fn"]
    judged_channel_quarters = args.seeds * (len(CHANNELS) - 1) * quarters  # "tiny" is skipped
    print(
        f" all  precision {_ratio(tp, tp + fp)}  recall {_ratio(tp, tp + fn)}  "
        f"false alerts per channel per quarter {fp / judged_channel_quarters:.2f}"
    )
    print("channel   conversions/day  recall  false alerts/quarter")
    for name, sessions, rate in CHANNELS:
        caught, injected = found[name]
        recall = _ratio(caught, injected) if injected else "skipped"
        per_quarter = false[name] / (args.seeds * quarters)
        print(f"{name:<9} {sessions * rate:>15.0f}  {recall:>6}  {per_quarter:>20.2f}")
    print(f"scored in {time.perf_counter() - started:.1f}s")


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "n/a"


if __name__ == "__main__":
    main()
