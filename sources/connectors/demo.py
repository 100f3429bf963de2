"""Deterministic demo data shaped like the real platforms deliver it.

Each day's numbers depend only on the date and the source's options, so pulling a day twice
gives the same rows. Channel names are the raw names each platform uses ("google / cpc",
"PAID_SEARCH"), so the demo goes through the same alias mapping a real source does.

Options (all optional): `start` (ISO date the trend counts from), `missing_days` (ISO dates
with no data at all), `anomalies` (list of {date, channel, measure, factor}).
"""

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sources.connectors import register
from sources.connectors.base import BATCH_COLUMNS, Batch, Connector
from sources.days import each_day
from sources.validation import COUNTS

DEFAULT_START = dt.date(2026, 1, 1)
WEEKDAY_FACTOR = [1.0, 1.04, 1.06, 1.02, 0.95, 0.72, 0.68]


@dataclass(frozen=True)
class DemoChannel:
    key: str
    ads_name: str  # as the ad platform would name it ("" for unpaid channels)
    analytics_name: str  # as GA4's channel grouping or source / medium would
    crm_name: str  # as HubSpot's original source would
    campaigns: tuple[tuple[str, str, float], ...]  # (id, name, daily spend)
    cpc: float
    cpc_trend: float  # relative change of cost per click per day
    base_sessions: float  # for unpaid channels
    conversion_rate: float  # key events per session
    lead_quality: float  # qualified leads per lead


CHANNELS = (
    DemoChannel(
        "google-ads",
        "Google Ads",
        "google / cpc",
        "PAID_SEARCH",
        (
            ("1201", "Search - Brand", 120.0),
            ("1202", "Search - Generic", 260.0),
            ("1203", "Performance Max", 180.0),
        ),
        cpc=1.85,
        cpc_trend=-0.0008,
        base_sessions=0,
        conversion_rate=0.036,
        lead_quality=0.46,
    ),
    DemoChannel(
        "meta-ads",
        "Meta Ads",
        "facebook / paid",
        "PAID_SOCIAL",
        (("23850001", "Prospecting - Lookalike", 210.0), ("23850002", "Retargeting", 90.0)),
        cpc=0.95,
        cpc_trend=0.0015,
        base_sessions=0,
        conversion_rate=0.022,
        lead_quality=0.31,
    ),
    DemoChannel(
        "linkedin-ads",
        "LinkedIn Ads",
        "linkedin / paid",
        "LINKEDIN",
        (("51001", "Decision makers", 260.0), ("51002", "Retargeting - site visitors", 120.0)),
        cpc=4.80,
        cpc_trend=0.0,
        base_sessions=0,
        conversion_rate=0.052,
        lead_quality=0.58,
    ),
    DemoChannel(
        "organic-search",
        "",
        "Organic Search",
        "ORGANIC_SEARCH",
        (),
        cpc=0,
        cpc_trend=0,
        base_sessions=1150,
        conversion_rate=0.027,
        lead_quality=0.41,
    ),
    DemoChannel(
        "email",
        "",
        "Email",
        "EMAIL_MARKETING",
        (),
        cpc=0,
        cpc_trend=0,
        base_sessions=310,
        conversion_rate=0.041,
        lead_quality=0.52,
    ),
)
AVERAGE_ORDER = 780.0


def _rng(day: dt.date, index: int) -> np.random.Generator:
    return np.random.default_rng([day.toordinal(), index, 7])


def day_rows(day: dt.date, *, start: dt.date) -> list[tuple]:
    """Rows (date, raw channel, campaign id, campaign name, measure, value) for one day."""
    rows: list[tuple] = []
    t = (day - start).days
    season = WEEKDAY_FACTOR[day.weekday()] * (1 + 0.0006 * t)
    for index, ch in enumerate(CHANNELS):
        rng = _rng(day, index)
        sessions = ch.base_sessions * season * rng.lognormal(0, 0.07)
        for campaign_id, campaign_name, budget in ch.campaigns:
            spend = budget * WEEKDAY_FACTOR[day.weekday()] ** 0.5 * rng.lognormal(0, 0.05)
            cpc = ch.cpc * (1 + ch.cpc_trend) ** t * rng.lognormal(0, 0.06)
            clicks = round(spend / cpc)
            conversions = round(clicks * ch.conversion_rate * rng.lognormal(0, 0.12), 2)
            sessions += clicks * 0.92
            for measure, value in (
                ("spend", round(spend, 2)),
                ("clicks", clicks),
                ("impressions", round(clicks / 0.031 * rng.lognormal(0, 0.05))),
                ("conversions", conversions),
            ):
                rows.append((day, ch.ads_name, campaign_id, campaign_name, measure, value))
        key_events = round(sessions * ch.conversion_rate * rng.lognormal(0, 0.1))
        leads = round(key_events * 0.62 * rng.lognormal(0, 0.08))
        qualified = round(leads * ch.lead_quality * rng.lognormal(0, 0.1))
        customers = round(qualified * 0.24 * rng.lognormal(0, 0.15))
        revenue = round(customers * AVERAGE_ORDER * rng.lognormal(0, 0.1), 2)
        rows += [
            (day, ch.analytics_name, "", "", "sessions", round(sessions)),
            (day, ch.analytics_name, "", "", "key_events", key_events),
            (day, ch.crm_name, "", "", "leads", leads),
            (day, ch.crm_name, "", "", "qualified_leads", qualified),
            (day, ch.crm_name, "", "", "customers", customers),
            (day, ch.crm_name, "", "", "revenue", revenue),
        ]
    return rows


def normalise(rows: list[tuple], *, anomalies: list[dict]) -> pd.DataFrame:
    """Pure: raw day rows plus configured anomalies → BATCH_COLUMNS frame."""
    frame = pd.DataFrame.from_records(rows, columns=BATCH_COLUMNS)
    for anomaly in anomalies:
        day = dt.date.fromisoformat(anomaly["date"])
        hit = (frame["date"] == day) & (frame["measure"] == anomaly["measure"])
        hit &= frame["channel"] == anomaly["channel"]
        # Money keeps cents; a count stays a whole number (validation refuses 12.6 sessions).
        decimals = 0 if anomaly["measure"] in COUNTS else 2
        frame.loc[hit, "value"] = (frame.loc[hit, "value"] * float(anomaly["factor"])).round(
            decimals
        )
    return frame


@register
class DemoConnector(Connector):
    kind = "demo"

    def fetch(self, *, since: dt.date, until: dt.date) -> Batch:
        options = self.source.options or {}
        start = dt.date.fromisoformat(options.get("start", DEFAULT_START.isoformat()))
        missing = set(options.get("missing_days", []))
        rows: list[tuple] = []
        for day in each_day(since, until):
            if day.isoformat() not in missing:
                rows += day_rows(day, start=start)
        frame = normalise(rows, anomalies=options.get("anomalies", []))
        return Batch(frame=frame, pages=1)
