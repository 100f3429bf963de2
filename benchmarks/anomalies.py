"""Precision and recall of the anomaly detector on synthetic daily series.

    python benchmarks/anomalies.py [--threshold 3] [--min-volume 20] [--seeds 5] [--first-seed 1]

Each channel gets a year of days (after 8 weeks of warm-up) of a conversion-rate-like ratio:
a denominator (sessions) with weekly seasonality, a trend and day-to-day noise, and a
numerator drawn as Poisson counts around a rate that has its own weekly pattern, drift and
extra day-to-day noise (overdispersion). About 3% of days get an injected anomaly: the
numerator multiplied by 0.3-0.5 or 2-3 on one day. Channels range from ~140 conversions a day
down to ~40, plus one of ~10 ("small") and one of ~4 ("tiny").

Defaults are the alert policy's. Precision, recall and false alerts per channel per quarter
are over the channel-days in scope (expected events on that weekday >= the minimum volume);
the injected anomalies that fell on days out of scope are counted and printed separately:
they are ignored by design, not caught. Precision depends on how common anomalies are (3% of
days here); false alerts per channel per quarter do not.
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

from constraints.alerts.anomalies import flag, score_day  # noqa: E402
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
QUARTER = 91.25  # days


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
    """One synthetic year: counts over judged (in-scope) channel-days, per channel."""
    rng = np.random.default_rng(seed)
    frames, truth = [], {}
    for name, sessions, rate in CHANNELS:
        days = series(rng, sessions, rate)
        frames.append(values_frame(days, name))
        truth[name] = dict(zip(days["date"].dt.date, days["factor"] != 1, strict=True))
    values = pd.concat(frames, ignore_index=True)
    counts = {name: dict.fromkeys(["tp", "fp", "fn", "out", "judged"], 0) for name in truth}
    for offset in range(WARMUP_DAYS, WARMUP_DAYS + DAYS):
        day = START + dt.timedelta(days=offset)
        scored = score_day(values, day=day, min_volume=min_volume)
        flagged = dict(zip(scored["channel"], flag(scored, threshold=threshold), strict=True))
        for channel, c in counts.items():
            actual = truth[channel][day]
            if channel not in flagged:
                c["out"] += actual  # an injected anomaly on a day out of scope
                continue
            predicted = bool(flagged[channel])
            c["judged"] += 1
            c["tp"] += predicted and actual
            c["fn"] += actual and not predicted
            c["fp"] += predicted and not actual
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=_default("anomaly_threshold"))
    parser.add_argument("--min-volume", type=float, default=_default("anomaly_min_volume"))
    parser.add_argument("--seeds", type=int, default=5, help="independent synthetic years")
    parser.add_argument("--first-seed", type=int, default=1, help="e.g. 11 for unseen years")
    args = parser.parse_args()
    print(
        f"threshold {args.threshold:g}, min volume {args.min_volume:g} expected events/day; "
        f"{len(CHANNELS)} channels x {DAYS} days per seed"
    )
    print("seed  judged  anomalies  out-of-scope  precision  recall  false  false/channel/quarter")
    per_channel = {name: dict.fromkeys(["tp", "fp", "fn", "out", "judged"], 0) for name in SIZES}
    started = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        counts = evaluate(threshold=args.threshold, min_volume=args.min_volume, seed=seed)
        for name, c in counts.items():
            for key in c:
                per_channel[name][key] += c[key]
        t = _total(counts)
        print(
            f"{seed:>4}  {t['judged']:>6}  {t['tp'] + t['fn']:>9}  {t['out']:>12}  "
            f"{_ratio(t['tp'], t['tp'] + t['fp']):>9}  {_ratio(t['tp'], t['tp'] + t['fn']):>6}  "
            f"{t['fp']:>5}  {_per_quarter(t['fp'], t['judged']):>21}"
        )
    t = _total(per_channel)
    print(
        f" all  in scope: precision {_ratio(t['tp'], t['tp'] + t['fp'])}  "
        f"recall {_ratio(t['tp'], t['tp'] + t['fn'])}  "
        f"false alerts per channel per quarter {_per_quarter(t['fp'], t['judged'])}; "
        f"out of scope: {t['out']} of {t['out'] + t['tp'] + t['fn']} injected anomalies"
    )
    print("channel   conversions/day  days in scope  recall  false/quarter  out-of-scope anomalies")
    for name, c in per_channel.items():
        share = c["judged"] / (args.seeds * DAYS)
        recall = _ratio(c["tp"], c["tp"] + c["fn"])
        print(
            f"{name:<9} {SIZES[name]:>15.0f}  {share:>13.0%}  {recall:>6}  "
            f"{_per_quarter(c['fp'], c['judged']):>13}  {c['out']:>22}"
        )
    print(f"scored in {time.perf_counter() - started:.1f}s")


def _default(field: str) -> float:
    return float(AlertPolicy._meta.get_field(field).default)


def _total(counts: dict[str, dict[str, int]]) -> dict[str, int]:
    return {key: sum(c[key] for c in counts.values()) for key in next(iter(counts.values()))}


def _per_quarter(false: int, judged_days: int) -> str:
    """False alerts per channel per quarter of judged days."""
    return f"{false / judged_days * QUARTER:.2f}" if judged_days else "n/a"


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "n/a"


if __name__ == "__main__":
    main()
