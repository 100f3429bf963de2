"""The simulated market: daily spend → true customers → what each platform reports, and when.

Pure numpy, no Django. One `Market` is one business over `days` days, deterministic by seed:
its parameters, its events and every day's noise come from generators seeded with
(seed, day, stream), so the same seed gives the same market and the same noise whatever the
budgets a policy sets (common random numbers: policies differ by their decisions only).

Functional forms (docs/market.md gives the sources):
- geometric adstock, normalised: a_t = decay * a_{t-1} + (1 - decay) * x_t, so a constant
  spend x has adstock x;
- Hill saturation: hill(a) = a^slope / (a^slope + half^slope);
- expected true customers of a campaign: ceiling * weekday * season * hill(a) / price_event;
- counts are gamma-Poisson (negative binomial) around that mean: over-dispersed.
"""

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

WEEKDAY = np.array([1.08, 1.10, 1.07, 1.03, 0.97, 0.85, 0.90])  # Monday first, mean 1.0
DISPERSION = 12.0  # gamma shape of the negative binomial: variance = mu + mu^2 / 12
KEY_EVENTS_PER_CUSTOMER = 5.0  # sign-ups, demo requests... per customer won
QUALIFIED_PER_CUSTOMER = 3.0  # qualified leads per customer won
TRACKING_FACTOR = 0.3  # reported conversions during the tracking break
PRICE_FACTOR = 1.3  # true cost per customer during the competitor's price event
PEAK_FACTOR = 1.35  # demand during the seasonal peak
# The CRM records a won customer when the deal is closed and entered: some days later.
CRM_LAG_MEAN, CRM_LAG_DAYS = 1.5, 10


@dataclass(frozen=True)
class CampaignSpec:
    channel: str  # channel key
    id: str
    name: str
    budget: float  # the static daily budget the account starts with
    ceiling: float  # most true customers a day at saturation (weekday and season 1)
    half: float  # daily spend that wins half the ceiling
    slope: float  # Hill exponent
    decay: float  # geometric adstock carry-over per day
    cpc: float  # cost per click


@dataclass(frozen=True)
class ChannelSpec:
    key: str
    name: str  # as every view names it (an alias of the template's channel, or a new one)
    attribution: float  # platform-reported conversions per true key event (1 = honest)
    lag_mean: float  # mean days after the day a conversion is reported
    lag_days: int  # the platform has every conversion of a day this many days later (1-14)
    organic: float = 0.0  # true customers a day without spend (organic channels)
    lead_quality: float = 0.45  # qualified leads per lead


# Base parameters; each seed draws its market around them (see `draw_campaigns`).
CHANNELS = (
    ChannelSpec("google-ads", "Google Ads", attribution=1.15, lag_mean=1.5, lag_days=7),
    ChannelSpec("meta-ads", "Meta Ads", attribution=1.45, lag_mean=2.5, lag_days=7),
    ChannelSpec("linkedin-ads", "LinkedIn Ads", attribution=0.8, lag_mean=4.0, lag_days=14),
    ChannelSpec("microsoft-ads", "Microsoft Ads", attribution=1.0, lag_mean=1.0, lag_days=4),
    ChannelSpec("tiktok-ads", "TikTok Ads", attribution=1.7, lag_mean=3.0, lag_days=10),
    ChannelSpec("organic-search", "Organic Search", 0, 0, 1, organic=2.0, lead_quality=0.5),
    ChannelSpec("email", "Email", 0, 0, 1, organic=1.0, lead_quality=0.55),
    ChannelSpec("direct", "Direct", 0, 0, 1, organic=1.5, lead_quality=0.5),
)
CAMPAIGNS = (  # (channel, id, name, static budget, ceiling, half, slope, decay, cpc)
    ("google-ads", "g-brand", "Search - Brand", 150, 1.8, 120, 1.3, 0.2, 1.2),
    ("google-ads", "g-generic", "Search - Generic", 300, 2.4, 600, 1.2, 0.3, 2.4),
    ("google-ads", "g-pmax", "Performance Max", 250, 2.1, 350, 1.4, 0.4, 1.6),
    ("meta-ads", "m-prospect", "Prospecting", 300, 2.1, 700, 1.1, 0.5, 0.9),
    ("meta-ads", "m-lookalike", "Lookalike", 150, 1.5, 200, 1.3, 0.5, 0.8),
    ("meta-ads", "m-retarget", "Retargeting", 100, 0.72, 90, 1.5, 0.3, 0.7),
    ("linkedin-ads", "l-decision", "Decision makers", 250, 1.2, 500, 1.2, 0.6, 5.5),
    ("linkedin-ads", "l-retarget", "Site visitors", 80, 0.48, 70, 1.4, 0.4, 4.0),
    ("microsoft-ads", "b-search", "Bing Search", 100, 0.72, 140, 1.3, 0.2, 1.5),
    ("microsoft-ads", "b-shopping", "Bing Shopping", 60, 0.36, 90, 1.3, 0.2, 1.1),
    ("tiktok-ads", "t-spark", "Spark Ads", 200, 1.08, 500, 1.2, 0.5, 0.5),
    ("tiktok-ads", "t-topview", "TopView", 150, 0.54, 450, 1.1, 0.5, 0.6),
)
PAID = tuple(ch for ch in CHANNELS if ch.organic == 0)


@dataclass(frozen=True)
class Events:
    """Day indexes of the three events (each [start, end), in market days)."""

    tracking: tuple[int, int]  # reported conversions of one platform fall to 30 %
    tracking_channel: str
    price: tuple[int, int]  # a competitor raises prices: true CPA +30 % on one channel
    price_channel: str
    peak: tuple[int, int]  # seasonal peak: demand x PEAK_FACTOR everywhere


def hill(adstock: np.ndarray, *, half: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """Pure: the Hill saturation in [0, 1): 0 at 0, 1/2 at `half`, increasing, bounded."""
    a = np.maximum(np.asarray(adstock, dtype=float), 0.0)
    ratio = (a / half) ** slope
    return ratio / (1.0 + ratio)


def adstock_step(previous: np.ndarray, spend: np.ndarray, *, decay: np.ndarray) -> np.ndarray:
    """Pure: one day of normalised geometric adstock."""
    return decay * previous + (1.0 - decay) * spend


def lag_weights(*, mean: float, days: int) -> np.ndarray:
    """Pure: share of a day's conversions reported 0..days-1 days later: a geometric
    distribution with the given mean, cut at `days` and renormalised (sums to 1)."""
    if days <= 1 or mean <= 0:
        return np.ones(1)
    p = 1.0 / (1.0 + mean)
    weights = p * (1 - p) ** np.arange(days)
    return weights / weights.sum()


@dataclass
class Market:
    """One business's market, advanced one day at a time by `run_day` with the budgets and
    statuses the platform holds (set by whatever policy acts through `set_budget`/`set_status`)."""

    seed: int
    days: int
    start: dt.date
    value: float = 780.0  # what a customer is worth (the template's LTV approximation)
    campaigns: list[CampaignSpec] = field(init=False)
    events: Events = field(init=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng([self.seed, 0, 0])
        self.campaigns = draw_campaigns(rng)
        self.events = draw_events(rng, days=self.days)
        n, d = len(self.campaigns), self.days
        self.channel_index = {ch.key: i for i, ch in enumerate(CHANNELS)}
        self.of_channel = np.array([self.channel_index[c.channel] for c in self.campaigns])
        self.half = np.array([c.half for c in self.campaigns])
        self.slope = np.array([c.slope for c in self.campaigns])
        self.decay = np.array([c.decay for c in self.campaigns])
        self.ceiling = np.array([c.ceiling for c in self.campaigns])
        self.budget = np.array([c.budget for c in self.campaigns], dtype=float)
        self.active = np.ones(n, dtype=bool)
        self.adstock = self.budget.copy()  # the account ran at its static budgets before
        self.today = 0  # the next day to run
        self.spend = np.zeros((d, n))
        self.budgets = np.zeros((d, n))  # the daily budget each campaign held (paused or not)
        self.true = np.zeros((d, n))  # true customers won by each campaign
        self.organic = np.zeros((d, len(CHANNELS)))  # true customers without spend, by channel
        self.clicks = np.zeros((d, n))
        self.conversions = np.zeros((d, n))  # what the platform will have reported, in the end
        lags = {ch.key: lag_weights(mean=ch.lag_mean, days=ch.lag_days) for ch in CHANNELS}
        self.lags = lags
        self.max_lag = max(len(w) for w in lags.values())
        # Conversions of day t reported k days later, per campaign: (days, campaigns, max_lag).
        self.arrived = np.zeros((d, n, self.max_lag))
        self.sessions = np.zeros((d, len(CHANNELS)))
        self.key_events = np.zeros((d, len(CHANNELS)))
        self.leads = np.zeros((d, len(CHANNELS)))
        self.qualified = np.zeros((d, len(CHANNELS)))
        self.crm_lag = lag_weights(mean=CRM_LAG_MEAN, days=CRM_LAG_DAYS)
        # Customers of day t the CRM records k days later, per channel.
        self.crm_arrived = np.zeros((d, len(CHANNELS), len(self.crm_lag)))
        self.changes: list[dict] = []  # every budget or status change applied, in order

    # -- the platform's side: what a policy changes -------------------------------------

    def index_of(self, campaign_id: str) -> int:
        for i, campaign in enumerate(self.campaigns):
            if campaign.id == campaign_id:
                return i
        raise KeyError(campaign_id)

    def set_budget(self, campaign_id: str, budget: float) -> None:
        self.budget[self.index_of(campaign_id)] = max(float(budget), 0.0)

    def set_status(self, campaign_id: str, *, active: bool) -> None:
        self.active[self.index_of(campaign_id)] = active

    # -- the truth ---------------------------------------------------------------------

    def day(self, t: int) -> dt.date:
        return self.start + dt.timedelta(days=t)

    def demand(self, t: int) -> np.ndarray:
        """Per channel: weekday x season on day t, divided by the price event where it runs."""
        factor = np.full(len(CHANNELS), WEEKDAY[self.day(t).weekday()])
        if self.events.peak[0] <= t < self.events.peak[1]:
            factor *= PEAK_FACTOR
        return factor

    def price_factor(self, t: int) -> np.ndarray:
        """Per campaign: the true cost multiplier of the competitor's price event on day t."""
        hit = self.events.price[0] <= t < self.events.price[1]
        channel = self.channel_index[self.events.price_channel]
        return np.where(hit & (self.of_channel == channel), PRICE_FACTOR, 1.0)

    def expected(self, t: int, spend: np.ndarray) -> np.ndarray:
        """Expected true customers per campaign on day t at steady-state spend (the oracle's
        view of the curve: adstock equal to spend)."""
        gain = self.ceiling * self.demand(t)[self.of_channel] / self.price_factor(t)
        return gain * hill(spend, half=self.half, slope=self.slope)

    def marginal_cost(self, t: int, spend: np.ndarray) -> np.ndarray:
        """True cost of one more customer per campaign at this daily spend on day t
        (1 / d customers / d spend, at steady state); inf where spend wins nothing more."""
        step = np.maximum(spend * 1e-3, 1e-2)
        gain = (self.expected(t, spend + step) - self.expected(t, spend)) / step
        with np.errstate(divide="ignore"):
            return np.where(gain > 0, 1.0 / gain, np.inf)

    def run_day(self) -> int:
        """Run the next day with the budgets and statuses held now; return its index."""
        t = self.today
        if t >= self.days:
            raise ValueError(f"the market has only {self.days} days")
        # One generator per stream: what one stream draws never shifts another's noise.
        pacing, paid, unpaid, clicks, report = (
            np.random.default_rng([self.seed, t + 1, stream]) for stream in range(1, 6)
        )
        n = len(self.campaigns)
        budget = np.where(self.active, self.budget, 0.0)
        spend = budget * np.clip(pacing.normal(1.0, 0.04, n), 0.85, 1.15)
        self.adstock = adstock_step(self.adstock, spend, decay=self.decay)
        gain = self.ceiling * self.demand(t)[self.of_channel] / self.price_factor(t)
        mean = gain * hill(self.adstock, half=self.half, slope=self.slope)
        self.true[t] = over_dispersed(paid, mean)
        organic = np.array([ch.organic for ch in CHANNELS]) * self.demand(t)
        self.organic[t] = over_dispersed(unpaid, organic)
        self.spend[t], self.budgets[t] = spend, self.budget
        cpc = np.array([c.cpc for c in self.campaigns]) * (1 + 0.3 * spend / self.half)
        self.clicks[t] = np.round(spend / cpc * clicks.lognormal(0, 0.05, n))
        self.report_day(t, report)
        self.today = t + 1
        return t

    def report_day(self, t: int, rng: np.random.Generator) -> None:
        """What the platforms, analytics and the CRM will record about day t."""
        n = len(self.campaigns)
        attribution = np.array([CHANNELS[i].attribution for i in self.of_channel])
        tracking = np.ones(n)
        if self.events.tracking[0] <= t < self.events.tracking[1]:
            broken = self.channel_index[self.events.tracking_channel]
            tracking = np.where(self.of_channel == broken, TRACKING_FACTOR, 1.0)
        key_events = rng.poisson(self.true[t] * KEY_EVENTS_PER_CUSTOMER)
        self.conversions[t] = rng.poisson(key_events * attribution * tracking)
        for i, campaign in enumerate(self.campaigns):
            weights = self.lags[campaign.channel]
            self.arrived[t, i, : len(weights)] = rng.multinomial(self.conversions[t, i], weights)
        customers = self.customers_by_channel(t)
        paid_sessions = np.bincount(self.of_channel, self.clicks[t], minlength=len(CHANNELS))
        organic_sessions = self.organic[t] * 220
        self.sessions[t] = rng.poisson(paid_sessions * 0.9 + organic_sessions)
        self.key_events[t] = rng.poisson(customers * KEY_EVENTS_PER_CUSTOMER + 0.2)
        self.qualified[t] = rng.poisson(customers * QUALIFIED_PER_CUSTOMER + 0.1)
        quality = np.array([ch.lead_quality for ch in CHANNELS])
        self.leads[t] = self.qualified[t] + rng.poisson(self.qualified[t] * (1 - quality) / quality)
        for c in range(len(CHANNELS)):
            self.crm_arrived[t, c] = rng.multinomial(customers[c], self.crm_lag)

    def customers_by_channel(self, t: int) -> np.ndarray:
        """True customers of day t per channel (campaigns summed, plus organic)."""
        paid = np.bincount(self.of_channel, self.true[t], minlength=len(CHANNELS))
        return paid + self.organic[t]

    # -- the platforms' views ----------------------------------------------------------

    def reported_conversions(self, t: int, *, as_of: int) -> np.ndarray:
        """Per campaign: conversions of day t the platform shows at the end of day `as_of`."""
        known = max(as_of - t + 1, 0)
        return self.arrived[t, :, :known].sum(axis=1)

    def recorded_customers(self, t: int, *, as_of: int) -> np.ndarray:
        """Per channel: customers won on day t that the CRM has by the end of day `as_of`."""
        known = max(as_of - t + 1, 0)
        return self.crm_arrived[t, :, :known].sum(axis=1)


def over_dispersed(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    """Gamma-Poisson (negative binomial) counts with this mean; variance mean + mean²/k."""
    mean = np.maximum(np.asarray(mean, dtype=float), 0.0)
    rate = rng.gamma(DISPERSION, 1.0 / DISPERSION, size=mean.shape) * mean
    return rng.poisson(rate).astype(float)


def draw_campaigns(rng: np.random.Generator) -> list[CampaignSpec]:
    """This seed's campaigns: each base curve's ceiling and half-saturation jittered by up to
    ±25 %, its static budget by ±30 % (accounts are over- and under-funded alike)."""
    out = []
    for channel, cid, name, budget, ceiling, half, slope, decay, cpc in CAMPAIGNS:
        jitter = rng.uniform(0.75, 1.25, 2)
        out.append(
            CampaignSpec(
                channel=channel,
                id=cid,
                name=name,
                budget=round(budget * rng.uniform(0.7, 1.3), 2),
                ceiling=ceiling * jitter[0],
                half=half * jitter[1],
                slope=slope,
                decay=decay,
                cpc=cpc,
            )
        )
    return out


def draw_events(rng: np.random.Generator, *, days: int) -> Events:
    """Where this seed's events fall: the tracking break (5 days) and the price event
    (21 days) on paid channels, the seasonal peak (14 days); each inside the period."""

    def window(length: int, low: float, high: float) -> tuple[int, int]:
        earliest = int(days * low)
        first = int(rng.integers(earliest, max(int(days * high) - length, earliest) + 1))
        return first, min(first + length, days)

    paid = [ch.key for ch in PAID]
    return Events(
        tracking=window(5, 0.35, 0.65),
        tracking_channel=str(rng.choice(paid[:3])),
        price=window(21, 0.15, 0.55),
        price_channel=str(rng.choice(paid)),
        peak=window(14, 0.6, 0.95),
    )
