"""A numpy sketch of the two campaign rules of `cac-efficiency`, for trying a threshold fast.

    python benchmarks/market/sketch.py [--seeds 1-50] [--workers 2] '{"cut_sure": 90}' ...

Each variant (a JSON object of `run_rules` arguments; `{}`, the rules before 4 December
2026, is always run first) is scored on the same markets as `benchmarks/decisions.py`: the
share of the oracle's gain over static, per seed, and the paired difference with `{}` (mean ±
its standard error). Seconds per variant and seed, not the half hour of the real run.

Not the product: each campaign is judged on its channel's settled CRM customers shared by
its settled platform conversions, over 21 days ending max(platform lag, CRM lag) days back;
no data checks, anomalies, holds, guardrails or settling curves. Its means came within a
point or two of the product's on seeds 1–10 (47 % against 48 %), seed by seed much less:
read a variant's paired difference over many seeds, then measure it through the product
(a cut 90 % sure gained 4.4 points here and lost 6 there while data checks on lumpy counts
held many decisions; with those checks fixed it gained 1: docs/market.md).
"""

import sys
from pathlib import Path

# The repository, not this folder: its platform.py would stand for the standard library's.
sys.path[0] = str(Path(__file__).resolve().parents[2])

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
from multiprocessing import Pool  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.market import policies  # noqa: E402
from benchmarks.market.model import CHANNELS, CRM_LAG_DAYS, Market  # noqa: E402
from constraints.rules import noise  # noqa: E402

WARMUP, DAYS = 21, 180
START = dt.date(2026, 1, 5)


def market(seed: int) -> Market:
    m = Market(seed=seed, days=WARMUP + DAYS, start=START)
    for _ in range(WARMUP):
        m.run_day()
    return m


def run_rules(
    m: Market,
    *,
    raise_below: float = 350,
    cut_above: float = 650,
    raise_sure: float | None = None,
    cut_sure: float | None = None,
    window: int = 21,
    cooldown: int = 21,
    up: float = 0.2,
    down: float = 0.1,
    min_customers: float = 5,
    min_spend: float = 960,
) -> list[policies.Action]:
    """The raise and the cut rule, each campaign every day, for DAYS days."""
    lag = {ch.key: max(ch.lag_days, CRM_LAG_DAYS) for ch in CHANNELS}
    back = np.array([lag[c.channel] for c in m.campaigns])
    n = len(m.campaigns)
    last = {"raise": np.full(n, -999), "cut": np.full(n, -999)}
    actions = []
    for _ in range(DAYS):
        t = m.run_day()
        for i in range(n):
            end = t - back[i]
            first = end - window + 1
            if first < 0:
                continue
            days = slice(first, end + 1)
            siblings = m.of_channel == m.of_channel[i]
            conversions = m.conversions[days][:, siblings].sum()
            if conversions == 0:
                continue  # no share of the channel's customers: no value
            crm = m.true[days][:, siblings].sum()  # the channel's customers, settled
            customers = crm * m.conversions[days, i].sum() / conversions
            spend = m.spend[days, i].sum()
            cac = spend / customers if customers > 0 else np.inf
            before = m.budget[i]
            if t - last["raise"][i] >= cooldown and customers >= min_customers:
                fires = cac < raise_below
                if raise_sure is not None:
                    chance = noise.at_least(customers, spend / raise_below)
                    fires = fires and 100 * (1 - chance) >= raise_sure
                if fires:
                    m.budget[i] = before * (1 + up)
                    last["raise"][i] = t
                    actions.append(policies.Action(t, i, "raise", before))
                    continue
            if customers <= 0 and (cut_sure is None or crm <= 0):
                continue  # the product: no CRM rows, no value; no CAC without a sureness test
            if t - last["cut"][i] >= cooldown and spend >= min_spend:
                fires = cac > cut_above
                if cut_sure is not None:
                    chance = noise.at_most(customers, spend / cut_above)
                    fires = fires and 100 * (1 - chance) >= cut_sure
                if fires:
                    m.budget[i] = before * (1 - down)
                    last["cut"][i] = t
                    actions.append(policies.Action(t, i, "cut", before))
    return actions


def shares(job: tuple[dict, list[int]]) -> np.ndarray:
    """The variant's share of the oracle's gain over static, per seed."""
    variant, seeds = job
    out = []
    for seed in seeds:
        static, oracle, ruled = market(seed), market(seed), market(seed)
        policies.run_static(static, days=DAYS)
        policies.run_oracle(oracle, days=DAYS)
        run_rules(ruled, **variant)
        s, o, r = (policies.score(x, first=WARMUP, actions=[]).contribution
                   for x in (static, oracle, ruled))  # fmt: skip
        out.append((r - s) / (o - s))
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", help="JSON objects of run_rules arguments")
    parser.add_argument("--seeds", default="1-50", help="first-last")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    first, last = (int(x) for x in args.seeds.split("-"))
    seeds = list(range(first, last + 1))
    variants = [{}, *(json.loads(v) for v in args.variants)]
    with Pool(args.workers) as pool:
        results = pool.map(shares, [(v, seeds) for v in variants])
    base = results[0]
    for variant, got in zip(variants, results, strict=True):
        diff = got - base
        error = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else 0.0
        print(
            f"{json.dumps(variant):48} {100 * got.mean():5.1f}% of oracle "
            f"(worst seed {100 * got.min():.0f}%)  vs {{}}: {100 * diff.mean():+.1f} "
            f"± {100 * error:.1f} points"
        )


if __name__ == "__main__":
    main()
