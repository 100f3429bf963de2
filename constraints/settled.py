"""Which day to judge: the last settled day of every source a judgement reads.

Platforms report a day's numbers in part at first (see sources/settling.py), so a rule or the
anomaly detector that judged yesterday would judge its least complete day. By default they
judge the window ending at the last day that is settled (≥ 95 % complete by the source's
learnt curve, or its platform default) for every source whose measures they read, each
channel on the sources that deliver its rows (`channel_windows`, `anomaly_days`). A rule may
opt in to judging settling days: then each settling value is divided by the share the curve
expects at its age (observed ÷ completeness), and the decision records that it did.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from constraints.metrics import measures_of
from constraints.models import Constraint
from sources import settling
from sources.models import Completeness, Measure, Source

RECENT_DAYS = 35  # the measures a source delivered lately say which sources a judgement reads


class Curves:
    """Every enabled source's completeness curves, read once. `sources`: the sources when the
    caller has read them already (the disabled ones are left out here)."""

    def __init__(self, sources: Iterable[Source] | None = None) -> None:
        if sources is None:
            sources = Source.objects.filter(enabled=True).select_related("channel")
        self.sources = {s.key: s for s in sources if s.enabled}
        self.stored = {
            (key, name): tuple(shares)
            for key, name, shares in Completeness.objects.filter(
                source__in=self.sources.values()
            ).values_list("source__key", "name", "shares")
        }

    def shares(self, source_key: str, measure: str) -> tuple[float, ...]:
        if (source_key, measure) in self.stored:
            return self.stored[(source_key, measure)]
        source = self.sources.get(source_key)
        return settling.default_shares(source.kind, measure) if source else ()

    def share_at(self, source_key: str, measure: str, age: int) -> float:
        shares = self.shares(source_key, measure)
        age = max(age, 1)
        return float(shares[age - 1]) if age <= len(shares) else 1.0

    def last_settled_day(self, source_key: str, measures: Iterable[str], today: dt.date):
        ages = [settling.settles_after(self.shares(source_key, m)) for m in measures] or [1]
        return today - dt.timedelta(days=max(ages))


@dataclass
class Judged:
    """The window end a judgement uses and why: `until` is the last day judged."""

    until: dt.date
    settling: bool = False  # True: settling days judged, corrected by the curves
    settled: dict[str, str] = field(default_factory=dict)  # source key → last settled day
    limited_by: str = ""  # the source whose settling held the window back

    def as_json(self) -> dict:
        return {
            "until": self.until.isoformat(),
            "settling": self.settling,
            "settled": self.settled,
            "limited_by": self.limited_by,
        }


def sources_reading(measures: set[str], *, day: dt.date) -> dict[str, set[str]]:
    """Enabled sources that delivered any of these measures lately → which ones."""
    rows = (
        Measure.objects.filter(
            name__in=measures,
            date__gte=day - dt.timedelta(days=RECENT_DAYS),
            date__lte=day,
            source__enabled=True,
        )
        .values_list("source__key", "name")
        .distinct()
    )
    found: dict[str, set[str]] = {}
    for key, name in rows:
        found.setdefault(key, set()).add(name)
    return found


def judged_window(
    *,
    measures: set[str],
    day: dt.date,
    curves: Curves,
    settling_days: bool = False,
    reading: dict[str, set[str]] | None = None,
) -> Judged:
    """The window end for a judgement of `measures` made after the data day `day`
    (usually yesterday): `day` itself when settling days are judged, else the last day
    settled for every source read."""
    reading = sources_reading(measures, day=day) if reading is None else reading
    today = day + dt.timedelta(days=1)
    settled = {
        key: min(day, curves.last_settled_day(key, names & measures, today))
        for key, names in sorted(reading.items())
        if names & measures
    }
    if settling_days or not settled:
        return Judged(until=day, settling=settling_days, settled=_iso(settled))
    limited_by = min(settled, key=lambda key: settled[key])
    return Judged(until=settled[limited_by], settled=_iso(settled), limited_by=limited_by)


def channel_windows(
    *,
    measures: set[str],
    day: dt.date,
    curves: Curves,
    reading: dict[str, set[str]],
) -> dict[str | None, Judged]:
    """Per channel key, the window end for judging that channel's numbers: the last day
    settled for the sources that deliver them, its own (a source tied to the channel, as an
    ad platform is) and those of every channel (analytics, a CRM). Key None: a channel with
    no source of its own. A Google Ads campaign is then judged on Google's settled days, not
    held back to LinkedIn's two weeks.

    Sources whose Source.channel is another channel deliver none of a channel's rows, so
    they cannot make its numbers incomplete."""
    own: dict[str | None, dict[str, set[str]]] = {None: {}}
    for key, names in reading.items():
        source = curves.sources.get(key)
        channel = source.channel.key if source is not None and source.channel_id else None
        own.setdefault(channel, {})[key] = names
    shared = own[None]
    return {
        channel: judged_window(
            measures=measures, day=day, curves=curves, reading={**shared, **reading_of}
        )
        for channel, reading_of in own.items()
    }


def _iso(days: dict[str, dt.date]) -> dict[str, str]:
    return {key: day.isoformat() for key, day in days.items()}


def corrected(frame: pd.DataFrame, *, today: dt.date, curves: Curves) -> pd.DataFrame:
    """Pure given the curves: the measure frame (MEASURE_COLUMNS) with each value divided
    by the share its source's curve expects at the day's age: the expected settled value."""
    if frame.empty:
        return frame
    ages = (pd.Timestamp(today) - frame["date"]).dt.days
    keys = pd.DataFrame({"source": frame["source"], "measure": frame["measure"], "age": ages})
    unique = keys.drop_duplicates()
    shares = {
        (row.source, row.measure, row.age): curves.share_at(row.source, row.measure, row.age)
        for row in unique.itertuples(index=False)
    }
    factor = [shares[key] for key in zip(keys["source"], keys["measure"], keys["age"], strict=True)]
    return frame.assign(value=frame["value"] / pd.Series(factor, index=frame.index))


def describe(*, judged: Judged, days: int, names: dict[str, str] | None = None) -> str:
    """'judges the 2 days ending Sat 28 Nov, the last settled day of Meta Ads'."""
    names = names or {}
    span = "the day" if days == 1 else f"the {days} days"
    when = f"{judged.until:%a %d %b}"
    if judged.settling:
        return f"judges {span} ending {when}, settling days corrected by their completeness"
    if not judged.limited_by:
        return f"judges {span} ending {when}"
    source = names.get(judged.limited_by, judged.limited_by)
    return f"judges {span} ending {when}, the last settled day of {source}"


def anomaly_days(*, day: dt.date) -> dict[str | None, dt.date]:
    """Per channel key, the day anomaly detection judges that channel on after the data day
    `day`: the last day settled for the sources delivering its rows (`channel_windows`, as
    the rules judge it), so a slow platform holds back its own channel's alerts only. Key
    None: every channel with no source of its own."""
    constraint = Constraint.objects.active()
    if constraint is None:
        return {None: day}
    measures = measures_of(constraint.metrics.all())
    reading = sources_reading(measures, day=day)
    windows = channel_windows(measures=measures, day=day, curves=Curves(), reading=reading)
    # Key None with no source behind it (no multi-channel source): no channel to judge.
    days = {ch: w.until for ch, w in windows.items() if ch is not None or w.settled}
    return days or {None: day}
