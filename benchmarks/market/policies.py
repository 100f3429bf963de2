"""The policies that need no decisionhub, and the scoring every policy shares (pure numpy).

- static: the budgets the account starts with, never changed;
- native: each ad platform's own automated rule on its reported CPA of yesterday only (raise
  the budget 20 % below the target CPA, lower it 20 % above 1.25 x the target), as such rules
  are usually set up in Google Ads and Meta;
- oracle: knows the true curves and sets every campaign's daily budget where its true marginal
  cost per customer equals the customer's value (the most contribution possible, at steady
  state: the curve's adstock taken equal to the day's spend).
"""

import copy
from dataclasses import dataclass, field, replace

import numpy as np

from benchmarks.market.model import Market

TARGET_CPA = 47.0  # the template's cost-per-acquisition target, used by the native rules too
NATIVE_STEP = 0.2
NATIVE_CUT_ABOVE = 1.25
REVERSAL_DAYS = 7
# How long after the tracking break an action may still be its doing: a 21-day window
# judged up to 14 days after the day it ends (the slowest lag), and a week's slack.
BREAK_REACH_DAYS = 42
# An action the run without the break takes too, on the same campaign within this many
# days, is not the break's doing (it only moved it).
SAME_ACTION_DAYS = 7


@dataclass
class Action:
    """One change a policy made: day index (the data day it judged), campaign index, kind
    ('raise', 'cut', 'pause', 'resume'), the budget before."""

    t: int
    campaign: int
    kind: str
    before: float


@dataclass
class Score:
    contribution: float
    customers: float
    spend: float
    actions: list[Action] = field(default_factory=list)
    harmful: int = 0
    on_tracking_break: int = 0
    because_of_break: int | None = None  # with a run of the same seed without the break
    slack_most_in_a_week: int = 0

    @property
    def cac(self) -> float:
        return self.spend / self.customers if self.customers else float("inf")


def run_static(market: Market, *, days: int) -> list[Action]:
    for _ in range(days):
        market.run_day()
    return []


def run_native(market: Market, *, days: int) -> list[Action]:
    """Each morning every platform judges each campaign on yesterday's CPA as it shows it."""
    actions = []
    for _ in range(days):
        t = market.run_day()
        conversions = market.reported_conversions(t, as_of=t)
        spend = market.spend[t]
        for i in range(len(market.campaigns)):
            if not market.active[i] or spend[i] <= 0:
                continue
            cpa = spend[i] / conversions[i] if conversions[i] else np.inf
            before = market.budget[i]
            if conversions[i] >= 1 and cpa < TARGET_CPA:
                market.budget[i] = before * (1 + NATIVE_STEP)
                actions.append(Action(t, i, "raise", before))
            elif cpa > TARGET_CPA * NATIVE_CUT_ABOVE:
                market.budget[i] = before * (1 - NATIVE_STEP)
                actions.append(Action(t, i, "cut", before))
    return actions


def oracle_budgets(market: Market, t: int, *, grid: int = 600) -> np.ndarray:
    """Per campaign: the daily spend on day t that maximises value x E[customers] - spend."""
    top = market.half * 8
    spends = np.linspace(0, 1, grid)[:, None] * top[None, :]
    profit = market.value * np.stack([market.expected(t, row) for row in spends]) - spends
    return spends[np.argmax(profit, axis=0), np.arange(len(top))]


def run_oracle(market: Market, *, days: int) -> list[Action]:
    for _ in range(days):
        market.budget[:] = oracle_budgets(market, market.today)
        market.active[:] = True
        market.run_day()
    return []


def score(market: Market, *, first: int, actions: list[Action]) -> Score:
    """Contribution over the days from `first` on: true customers x value - spend, with the
    harmful actions among `actions`."""
    customers = market.true[first:].sum() + market.organic[first:].sum()
    spend = market.spend[first:].sum()
    result = Score(
        contribution=customers * market.value - spend,
        customers=float(customers),
        spend=float(spend),
        actions=actions,
    )
    result.on_tracking_break = sum(on_tracking_break(market, a) for a in actions)
    result.harmful = sum(is_harmful(market, a, actions) for a in actions)
    return result


def on_tracking_break(market: Market, action: Action) -> bool:
    """A cut or pause of a campaign of the broken platform, decided while the break's days
    were in the last week of its data (whatever days it judged, whatever its reason)."""
    start, end = market.events.tracking
    return start <= action.t < end + REVERSAL_DAYS and cuts_broken_platform(market, action)


def cuts_broken_platform(market: Market, action: Action) -> bool:
    broken = market.campaigns[action.campaign].channel == market.events.tracking_channel
    return broken and action.kind in ("cut", "pause")


def break_suspects(market: Market, actions: list[Action]) -> list[Action]:
    """The actions the tracking break may be behind: cuts and pauses of the broken
    platform's campaigns from its first day until BREAK_REACH_DAYS after its last."""
    start, end = market.events.tracking
    return [
        a
        for a in actions
        if start <= a.t < end + BREAK_REACH_DAYS and cuts_broken_platform(market, a)
    ]


def because_of_break(market: Market, actions: list[Action], without: list[Action]) -> int:
    """The cuts and pauses of the broken platform's campaigns, from the break's first day on,
    that the same policy on the same market without the break (`without`: its actions from
    the break's first day, the days before being the same) did not take: each is paired with
    at most one of the same kind on the same campaign within SAME_ACTION_DAYS (the nearest
    one not yet paired), and the ones left unpaired are the actions the break caused. Five
    daily cuts during the break against one without it are four caused."""
    unpaired = [a for a in without if cuts_broken_platform(market, a)]
    caused = 0
    for action in sorted(break_suspects(market, actions), key=lambda a: a.t):
        near = [
            other
            for other in unpaired
            if other.campaign == action.campaign
            and other.kind == action.kind
            and abs(other.t - action.t) <= SAME_ACTION_DAYS
        ]
        if near:
            unpaired.remove(min(near, key=lambda other: abs(other.t - action.t)))
        else:
            caused += 1
    return caused


def without_break(market: Market) -> Market:
    """A copy of the market as it stands whose tracking break never happens (same seed,
    same days run, same noise to come)."""
    clean = copy.deepcopy(market)
    start, _ = market.events.tracking
    clean.events = replace(market.events, tracking=(start, start))
    return clean


def is_harmful(market: Market, action: Action, actions: list[Action]) -> bool:
    """A raise where the true marginal cost per customer was already above the customer's
    value, a cut or pause on the tracking break, or an action undone within 7 days."""
    if action.kind == "raise":
        spend = np.zeros(len(market.campaigns))
        spend[action.campaign] = action.before
        if market.marginal_cost(action.t, spend)[action.campaign] > market.value:
            return True
    if on_tracking_break(market, action):
        return True
    opposite = {"raise": ("cut", "pause"), "cut": ("raise",), "pause": ("resume",)}
    return any(
        other.campaign == action.campaign
        and other.kind in opposite.get(action.kind, ())
        and action.t < other.t <= action.t + REVERSAL_DAYS
        for other in actions
    )
