"""Settled and settling days: how complete a source's numbers are at each age of their day.

A platform keeps revising a day for weeks (see RESTATEMENT_DAYS in sources/models.py), so the
number pulled the next morning is only a share of what the day will finally say. From the
revisions of the last HISTORY_DAYS days the nightly pull learns, per source and measure, the
share of the final value that was reported at age 1, 2, … days (a ratio of sums over the days
learned from). Until MIN_DAYS days can be learned from, a platform default stands in (its
shares are starting assumptions, documented in docs/settling.md, not vendor figures).

A day is *settled* for a measure from the first age at which the curve stays within TOLERANCE
of the final value (≥ 95 %, and ≤ 105 % for numbers that shrink, like revenue after refunds);
younger days are *settling*. The pure maths (`learn_shares`, `settles_after`) is tested
without a database.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import pandas as pd
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone

from sources.days import local_day
from sources.models import Completeness, Measure, Revision, Source, SyncRun

HISTORY_DAYS = 90
MIN_DAYS = 14
TOLERANCE = 0.05
FIRST_SEEN_BY = 2  # a day counts for learning when a pull saw it this young
SLOW = {  # the measures a platform restates, and their default shares at age 1, 2, …
    "google_ads": {"conversions": (0.80, 0.88, 0.92, 0.95, 0.97, 0.98, 0.99)},
    "meta_ads": {"conversions": (0.75, 0.85, 0.90, 0.93, 0.95, 0.97, 0.98, 0.99)},
    "ga4": {"*": (0.90, 0.97, 0.99)},
    "hubspot": {
        "customers": (0.70, 0.78, 0.84, 0.88, 0.91, 0.93, 0.95, 0.96, 0.97, 0.98),
        "qualified_leads": (0.85, 0.90, 0.93, 0.95, 0.97, 0.98),
    },
    "stripe": {"revenue": (1.02, 1.01)},
}


# Kinds whose days are final as delivered: the demo generates them once, a CSV file and
# webhook events are what the sender says they are (a re-upload is a revision like any other).
AS_DELIVERED = ("demo", "csv", "webhook")
# A kind with no defaults of its own (a connector added later): the measures every platform
# we know reports late are assumed to arrive as the slower of them do, until its curves are
# learnt. Complete from age 1 read a CRM's newest, half-recorded customers as final, and a
# drop check fired on the ad conversions still arriving.
LATE_BY_NAME = {
    "conversions": SLOW["meta_ads"]["conversions"],
    "customers": SLOW["hubspot"]["customers"],
    "qualified_leads": SLOW["hubspot"]["qualified_leads"],
}


def default_shares(kind: str, measure: str) -> tuple[float, ...]:
    """The platform default curve of a measure; () means complete from age 1."""
    if kind in AS_DELIVERED:
        return ()
    slow = SLOW.get(kind, LATE_BY_NAME)
    return tuple(slow.get(measure, slow.get("*", ())))


def settles_after(shares: Iterable[float]) -> int:
    """Pure: the first age (≥ 1) from which every share is within TOLERANCE of 1."""
    shares = list(shares)
    age = len(shares) + 1
    for index in range(len(shares) - 1, -1, -1):
        if abs(shares[index] - 1) > TOLERANCE + 1e-9:  # 0.95 counts as settled
            break
        age = index + 1
    return age


def learn_shares(finals: pd.DataFrame, revisions: pd.DataFrame, *, ages: int) -> dict:
    """Pure: measure → (shares at age 1..ages, days learned from).

    `finals`: one row per (date, measure) with `value`, the sum of today's values for days
    old enough to be final. `revisions`: rows with `date`, `measure`, `delta` (revised minus
    previous value) and `revised_age` (the age at which the revision came). The value a day
    had at age a is its final value minus every revision that came after age a."""
    values, days = defaultdict(list), defaultdict(set)
    for day, measure, value in _columns(finals, "date", "measure", "value"):
        values[measure].append(value)
        days[measure].add(day)
    deltas, revised_ages = defaultdict(list), defaultdict(list)
    for day, measure, delta, age in _columns(revisions, "date", "measure", "delta", "revised_age"):
        if day in days.get(measure, ()):
            deltas[measure].append(delta)
            revised_ages[measure].append(age)
    result = {}
    for measure in sorted(values):
        total = float(np.nansum(values[measure]))
        if not total:
            continue
        # later[a - 1]: the sum of the revisions that came after age a, for a = 1..ages.
        age = np.clip(np.array(revised_ages[measure], dtype=int), 0, ages + 1)
        weights = np.array(deltas[measure], dtype=float)
        by_age = np.bincount(age, weights=weights, minlength=ages + 2)
        later = by_age[::-1].cumsum()[::-1][2 : ages + 2]
        shares = [round((total - float(x)) / total, 4) for x in later]
        result[measure] = (tuple(shares), len(days[measure]))
    return result


def _columns(frame: pd.DataFrame, *names: str):
    """The frame's rows as tuples of these columns: plain Python, no pandas per row."""
    return zip(*(frame[name].tolist() for name in names), strict=True)


def learn(*, source: Source, as_of: dt.date) -> list[Completeness]:
    """Learn and store the source's curve for every measure it delivers (the platform
    default where fewer than MIN_DAYS days can be learned from)."""
    window = source.restatement_window
    finals, revised = _history(source=source, as_of=as_of, window=window)
    learned = learn_shares(finals, revised, ages=window + 1)
    measures = set(
        Measure.objects.filter(source=source, date__gte=as_of - dt.timedelta(days=HISTORY_DAYS))
        .values_list("name", flat=True)
        .distinct()
    )
    stored = {curve.name: curve for curve in Completeness.objects.filter(source=source)}
    curves, unchanged = [], []
    for measure in sorted(measures | set(learned)):
        shares, days = learned.get(measure, ((), 0))
        is_learned = days >= MIN_DAYS
        if not is_learned:
            shares = default_shares(source.kind, measure)
        shares = _trimmed(shares)
        fields = {
            "shares": list(shares),
            "days": days,
            "learned": is_learned,
            "settles_after": settles_after(shares),
        }
        curve = stored.get(measure)
        if curve is not None and all(getattr(curve, n) == v for n, v in fields.items()):
            unchanged.append(curve)
        else:
            curve = _store_curve(source, measure, fields, stored=curve)
        curves.append(curve)
    _touch(unchanged)
    return curves


def _store_curve(source: Source, measure: str, fields: dict, *, stored) -> Completeness:
    """Overwrite the stored curve (one UPDATE: every source's curves are learnt nightly, and
    update_or_create cost a transaction, a locking read and the update for each), or create
    it when there is none yet."""
    if stored is None:
        curve, _ = Completeness.objects.update_or_create(
            source=source, name=measure, defaults=fields
        )
        return curve
    for name, value in fields.items():
        setattr(stored, name, value)
    stored.save(update_fields=[*fields, "updated_at"])
    return stored


def _touch(curves: list[Completeness]) -> None:
    """Mark curves learnt again with the same result as learnt now, in one UPDATE: once a
    source has its MIN_DAYS most of its curves come out the same night after night."""
    if not curves:
        return
    now = timezone.now()
    Completeness.objects.filter(pk__in=[curve.pk for curve in curves]).update(updated_at=now)
    for curve in curves:
        curve.updated_at = now


def _trimmed(shares: Iterable[float]) -> tuple[float, ...]:
    """Without the trailing run of 1.0s: past its end a curve reads 1."""
    shares = list(shares)
    while shares and shares[-1] == 1:
        shares.pop()
    return tuple(shares)


def _history(*, source: Source, as_of: dt.date, window: int) -> tuple:
    """The final sums and the revisions of the days that can be learned from: final (older
    than the restatement window), within HISTORY_DAYS, and first pulled young."""
    since = as_of - dt.timedelta(days=HISTORY_DAYS)
    until = as_of - dt.timedelta(days=window + 1)
    days = set(young_days(source=source, since=since, until=until))
    # Read by date range, the few days not young dropped here: an IN list of every young day
    # cost more to build than the rows of the others.
    span = {"source": source, "date__gte": min(days, default=since), "date__lte": until}
    sums = Measure.objects.filter(**span).values_list("date", "name").annotate(Sum("value"))
    finals = pd.DataFrame(
        [(day, name, float(total)) for day, name, total in sums if day in days],
        columns=["date", "measure", "value"],
    )
    rows = Revision.objects.filter(**span).values_list(
        "date", "name", "value", "revised_value", "revised_age_days"
    )
    revised = pd.DataFrame(
        [(d, n, float(new) - float(old), age) for d, n, old, new, age in rows if d in days],
        columns=["date", "measure", "delta", "revised_age"],
    )
    return finals, revised


def young_days(*, source: Source, since: dt.date, until: dt.date) -> list[dt.date]:
    """Days of since..until that a succeeded pull saw at most FIRST_SEEN_BY days old: only
    those show how a day fills in (a backfill sees days already final)."""
    days: set[dt.date] = set()
    runs = SyncRun.objects.filter(
        source=source, status=SyncRun.Status.SUCCEEDED, until__gte=since, since__lte=until
    )
    for first, last, as_of, started_at in runs.values_list("since", "until", "as_of", "started_at"):
        run_day = as_of or local_day(started_at)  # as revisions.run_day
        day = max(first, run_day - dt.timedelta(days=FIRST_SEEN_BY), since)
        while day <= min(last, until):
            days.add(day)
            day += dt.timedelta(days=1)
    return sorted(days)


def curves_for(source: Source, measures: Iterable[str]) -> dict[str, tuple[float, ...]]:
    """The shares of each of these measures of the source, as `curve_for` gives them, read
    in one query."""
    measures = list(measures)
    stored = dict(
        Completeness.objects.filter(source=source, name__in=measures).values_list("name", "shares")
    )
    return {
        measure: tuple(stored[measure])
        if measure in stored
        else _trimmed(default_shares(source.kind, measure))
        for measure in measures
    }


def curves_of(source_ids: Iterable[int], measure: str) -> dict[int, tuple[float, ...]]:
    """Source id → the shares of this measure of each of these sources, as `curve_for`
    gives them, in one query; the sources in their default order (by name)."""
    stored = Completeness.objects.filter(source=OuterRef("pk"), name=measure).values("shares")
    rows = (
        Source.objects.filter(pk__in=list(source_ids))
        .annotate(shares=Subquery(stored[:1]))
        .values_list("pk", "kind", "shares")
    )
    return {
        pk: _trimmed(default_shares(kind, measure)) if shares is None else tuple(shares)
        for pk, kind, shares in rows
    }


def curve_for(source: Source, measure: str) -> tuple[tuple[float, ...], bool]:
    """(shares, learned) of a source's measure: the stored curve, else the default."""
    stored = Completeness.objects.filter(source=source, name=measure).first()
    if stored:
        return tuple(stored.shares), stored.learned
    return _trimmed(default_shares(source.kind, measure)), False


def last_settled_day(*, source: Source, measures: Iterable[str], today: dt.date) -> dt.date:
    """The newest day on which every one of these measures of the source is settled."""
    ages = [settles_after(curve_for(source, m)[0]) for m in measures] or [1]
    return today - dt.timedelta(days=max(ages))
