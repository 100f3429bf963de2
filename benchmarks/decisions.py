"""Benchmark: do the rules make money? Five policies on the same simulated markets.

    python benchmarks/decisions.py [--seeds 10] [--days 180] [--workers 2] [--first-seed 1]
                                   [--without-unsettled] [--without-counterfactual]

For each seed one market (benchmarks/market/model.py) is run `--days` days under each policy,
after the same WARMUP days at static budgets (the history every policy starts from):

1. static budgets;
2. native: each platform's own rule on yesterday's reported CPA;
3. decisionhub: the shipped cac-efficiency rules in automatic mode, judged on settled data,
   through the real pipeline, evaluation, ledger, executors and alerts (a throwaway SQLite
   database per run);
4. the same rules on the newest, unsettled days;
5. the oracle: every campaign where its true marginal cost per customer equals its value.

Prints, per policy, the mean and worst seed of contribution (true customers x value - spend),
blended true CAC, customers, spend, the share of the oracle's gain over static captured,
harmful actions, the cuts of the broken platform while its tracking break was in the last week
of data ("in break"), those the break caused ("caused": what the same policy on the same seed
without the break did not do; policies 3 and 4 are forked on the break's first day for it) and
Slack messages; the last line sums it up for scripts.
"""

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.market import policies  # noqa: E402
from benchmarks.market.model import Market  # noqa: E402

START = dt.date(2026, 1, 5)
WARMUP = 21  # days at static budgets before any policy acts (the account's history)
# Without the settling issue's settled-day logic: judge the rules this many days back, the
# lag after which Google Ads and Meta (the channels the shipped rules act on) have settled.
SETTLED_LAG = 7
POLICIES = ["static", "native", "settled", "unsettled", "oracle"]
LABELS = {
    "static": "1 static budgets",
    "native": "2 platform-native rules",
    "settled": "3 decisionhub, settled data",
    "unsettled": "4 decisionhub, unsettled data",
    "oracle": "5 oracle",
}
_template_db = ""


def market_for(seed: int, days: int) -> Market:
    market = Market(seed=seed, days=WARMUP + days, start=START)
    for _ in range(WARMUP):
        market.run_day()
    return market


def run_numpy(seed: int, policy: str, days: int) -> policies.Score:
    market = market_for(seed, days)
    clean = policies.without_break(market)
    run = {
        "static": policies.run_static,
        "native": policies.run_native,
        "oracle": policies.run_oracle,
    }[policy]
    score = policies.score(market, first=WARMUP, actions=run(market, days=days))
    without = run(clean, days=days) if score.actions else []  # static, oracle: nothing to pair
    score.because_of_break = policies.because_of_break(market, score.actions, without=without)
    return score


def setup_worker(template_db: str) -> None:
    """Each worker process: Django on its own copy of a migrated SQLite database."""
    global _template_db
    _template_db = template_db
    os.environ["DATABASE_URL"] = f"sqlite:///{template_db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "decisionhub.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark")
    os.environ["LOG_LEVEL"] = "ERROR"
    import django

    django.setup()
    from django.db.backends.signals import connection_created

    connection_created.connect(_throwaway_sqlite)


def _throwaway_sqlite(sender, connection, **kwargs) -> None:
    """These databases are deleted after the run: no fsync on every commit."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA journal_mode = MEMORY")


def fresh_database() -> str:
    """Point the default connection at a new copy of the migrated template database."""
    path = f"{_template_db}.{os.getpid()}.sqlite3"
    shutil.copyfile(_template_db, path)
    use_database(path)
    return path


def copy_database(path: str) -> str:
    """A copy of the database at `path` as it stands (every write committed)."""
    from django.db import connections

    connections.close_all()
    copied = f"{path}.fork.sqlite3"
    shutil.copyfile(path, copied)
    return copied


def use_database(path: str) -> None:
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = path


def run_job(job: tuple[int, str, int, bool]) -> tuple[int, str, policies.Score]:
    """One seed under one policy: through the product (3, 4) or in numpy (1, 2, 5); the
    last item says whether to run the product's counterfactual without the break."""
    seed, policy, days, counterfactual = job
    if policy in ("settled", "unsettled"):
        return run_product((seed, policy, days), counterfactual=counterfactual)
    return seed, policy, run_numpy(seed, policy, days)


def run_product(
    job: tuple[int, str, int], *, counterfactual: bool = True
) -> tuple[int, str, policies.Score]:
    """Policies 3 and 4: the market through decisionhub itself. With `counterfactual`, the
    run is forked on the tracking break's first day (the database copied, the market copied
    without the break) and the copy runs until the break can no longer be behind an action,
    to count the actions the break caused (policies.because_of_break); it runs only when
    the run has actions the break may be behind (policies.break_suspects), and only until
    the last of them could be paired."""
    seed, policy, days = job
    from benchmarks.market import harness, platform

    path = fresh_database()
    market = market_for(seed, days)
    key = f"seed{seed}"
    harness.install(market=market, key=key)
    judge = judge_for(policy)
    start, _ = market.events.tracking
    forks = counterfactual and WARMUP <= start < WARMUP + days
    before = start - WARMUP if forks else days
    result = harness.run(market=market, key=key, days=before, judge=judge)
    if forks:
        clean, clean_path = policies.without_break(market), copy_database(path)
        result.slack_by_week += harness.run(
            market=market, key=key, days=days - before, judge=judge
        ).slack_by_week
    score = policies.score(market, first=WARMUP, actions=ledger_actions(market))
    score.slack_most_in_a_week = max(result.slack_by_week.values(), default=0)
    if forks:
        score.because_of_break = 0
        counted = policies.break_suspects(market, score.actions)
        if counted:  # else nothing to pair: the copy need not run at all
            # Only as far as the last action to pair can find its twin in the copy.
            last = max(a.t for a in counted) + policies.SAME_ACTION_DAYS
            use_database(clean_path)
            platform.LIVE[key] = clean
            harness.run(market=clean, key=key, days=min(last + 1, clean.days) - start, judge=judge)
            without = [a for a in ledger_actions(clean) if a.t >= start]
            score.because_of_break = policies.because_of_break(market, score.actions, without)
    return seed, policy, score


def settles_in_the_product() -> bool:
    """Whether the rules judge settled days themselves (the settling issue's logic)."""
    from constraints.models import Rule

    return any(f.name == "judges_settling" for f in Rule._meta.get_fields())


def judge_for(policy: str):
    """How policy 3 (settled) and 4 (unsettled) evaluate the data day just pulled.

    With the settling logic in the product, rules judge their window ending at the last
    settled day by default (policy 3) and judge settling days when they opt in (policy 4).
    Without it, policy 4 judges the newest day and policy 3 the day SETTLED_LAG days before,
    an approximation of the last settled day."""
    from constraints.models import Rule
    from constraints.rules import evaluation

    if settles_in_the_product():
        Rule.objects.update(judges_settling=policy == "unsettled")
        return None
    if policy == "settled":
        return lambda day: evaluation.evaluate(day=day - dt.timedelta(days=SETTLED_LAG))
    return None


def ledger_actions(market: Market) -> list[policies.Action]:
    """The changes decisionhub applied, from its ledger, as policy actions."""
    from benchmarks.market import harness

    kinds = {"raise_budget": "raise", "lower_budget": "cut", "pause": "pause", "resume": "resume"}
    out = []
    for change in harness.campaign_changes():
        kind = kinds.get(change["action"])
        if change["action"] == "set_budget":
            kind = "raise" if change["after"] > change["before"] else "cut"
        out.append(
            policies.Action(
                t=(change["period"] - market.start).days,
                campaign=market.index_of(change["campaign"]),
                kind=kind,
                before=float(change["before"] or 0),
            )
        )
    return out


def migrated_template(directory: str) -> str:
    path = f"{directory}/template.sqlite3"
    setup_worker(path)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connections

    connections.close_all()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--first-seed", type=int, default=1, help="seeds first..first+seeds-1")
    parser.add_argument(
        "--without-unsettled",
        action="store_true",
        help="leave out policy 4 (half the run time: for trying a change to the rules)",
    )
    parser.add_argument(
        "--without-counterfactual",
        action="store_true",
        help="do not run policies 3 and 4 again without the tracking break (a fifth less run "
        "time; the actions the break caused are then not counted)",
    )
    args = parser.parse_args()
    policies_run = [p for p in POLICIES if not (args.without_unsettled and p == "unsettled")]
    started = time.perf_counter()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    scores: dict[tuple[int, str], policies.Score] = {}
    memory = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
    with tempfile.TemporaryDirectory(dir=memory) as tmp:
        template = migrated_template(tmp)
        # The product's runs first (the long ones), then the numpy policies, all in the pool.
        jobs = [
            (seed, policy, args.days, not args.without_counterfactual)
            for group in (("settled", "unsettled"), ("static", "native", "oracle"))
            for seed in seeds
            for policy in group
            if policy in policies_run
        ]
        with Pool(args.workers, initializer=setup_worker, initargs=(template,)) as pool:
            for done, (seed, policy, score) in enumerate(pool.imap_unordered(run_job, jobs)):
                scores[seed, policy] = score
                elapsed = time.perf_counter() - started
                print(
                    f"  {done + 1}/{len(jobs)} seed {seed} {policy}: {elapsed:.0f}s",
                    file=sys.stderr,
                )
    settled = (
        "the product's settled days (rules judge the last settled day; policy 4 opts in to "
        "settling days)"
        if settles_in_the_product()
        else f"approximated: policy 3 judges the newest day minus {SETTLED_LAG} days"
    )
    print(f"settled data: {settled}")
    report(
        scores,
        seeds=seeds,
        days=args.days,
        seconds=time.perf_counter() - started,
        policies_run=policies_run,
    )


def caused(rows: list[policies.Score]) -> int | None:
    """The actions the tracking break caused over these runs; None where not counted."""
    counted = [r.because_of_break for r in rows]
    return None if None in counted else sum(counted)


def shown(count: int | None) -> str:
    return "-" if count is None else str(count)


def report(
    scores: dict, *, seeds: list[int], days: int, seconds: float, policies_run: list[str]
) -> None:
    def share(seed: int, policy: str) -> float:
        static = scores[seed, "static"].contribution
        gain = scores[seed, "oracle"].contribution - static
        return (scores[seed, policy].contribution - static) / gain * 100 if gain else 0.0

    print(f"{len(seeds)} seeds x {days} days (after {WARMUP} days of history), {seconds:.0f}s")
    header = (
        f"{'policy':32} {'contribution':>13} {'worst':>12} {'true CAC':>9} {'customers':>10} "
        f"{'spend':>10} {'% oracle':>9} {'worst':>6} {'harmful':>8} {'in break':>9} {'caused':>7} "
        f"{'Slack/wk':>9}"
    )
    print(header)
    print("-" * len(header))
    for policy in policies_run:
        rows = [scores[s, policy] for s in seeds]
        shares = [share(s, policy) for s in seeds]
        print(
            f"{LABELS[policy]:32} {np.mean([r.contribution for r in rows]):13,.0f} "
            f"{min(r.contribution for r in rows):12,.0f} {np.mean([r.cac for r in rows]):9.1f} "
            f"{np.mean([r.customers for r in rows]):10,.0f} "
            f"{np.mean([r.spend for r in rows]):10,.0f} "
            f"{np.mean(shares):8.0f}% {min(shares):5.0f}% {sum(r.harmful for r in rows):8d} "
            f"{sum(r.on_tracking_break for r in rows):9d} {shown(caused(rows)):>7} "
            f"{max(r.slack_most_in_a_week for r in rows):9d}"
        )
    for s in seeds:
        ours = scores[s, "settled"]
        vs_static = (ours.contribution - scores[s, "static"].contribution) / abs(
            scores[s, "static"].contribution
        )
        print(
            f"  seed {s}: decisionhub {share(s, 'settled'):.0f}% of oracle, "
            f"{vs_static * 100:+.1f}% vs static, {len(ours.actions)} actions, "
            f"harmful {ours.harmful}, cuts while the tracking break was in the last week "
            f"{ours.on_tracking_break}, caused by it {shown(caused([ours]))}"
        )
    worst_vs_static = min(
        (scores[s, "settled"].contribution - scores[s, "static"].contribution)
        / abs(scores[s, "static"].contribution)
        * 100
        for s in seeds
    )
    ours = [share(s, "settled") for s in seeds]
    # The actions the break caused when the counterfactual ran; else the cuts during it.
    on_break = caused([scores[s, "settled"] for s in seeds])
    if on_break is None:
        on_break = sum(scores[s, "settled"].on_tracking_break for s in seeds)
    print(
        f"decisionhub: {np.mean(ours):.0f}% of oracle (worst seed {min(ours):.0f}%), "
        f"native rules {np.mean([share(s, 'native') for s in seeds]):.0f}%, static 0%; "
        f"worst seed vs static {worst_vs_static:+.1f}%; "
        f"harmful actions {sum(scores[s, 'settled'].harmful for s in seeds)}; "
        f"actions on the tracking break {on_break}; "
        f"most Slack messages in a week "
        f"{max(scores[s, 'settled'].slack_most_in_a_week for s in seeds)}"
    )


if __name__ == "__main__":
    main()
