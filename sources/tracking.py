"""A broken conversion tracker, seen against the CRM: an ad platform's conversions falling
over several days while the customers the CRM records from its channel do not.

A pixel or tag that stops firing takes the platform's conversions down for days while
customers keep coming. One day's count cannot show it: conversions are lumpy (a customer
brings several), so a day with a third of the usual number is ordinary. But conditional on
the customers the CRM recorded from the channel over a few days, the conversions they bring
are tight: the platform's conversions per CRM customer, learnt over the weeks before, times
those customers, is what the platform should show. A span of 3, 5 or 7 days with fewer than
half of that, and that few by chance less than once in TRACKING_SURE, is a tracking break:
every day of it opens a data check on the platform's source (`subject` conversions), which
holds the rules reading those days (constraints/rules/execution.py, `data_in_doubt`).

Each pull of a platform source judges the last TRACKING_DAYS days again, so a check stays
confirmed as long as a rule's window may hold its days, and clears if later numbers (a
restatement) no longer show the fall. Days are judged once the completeness curves expect
SETTLED_ENOUGH of them to have arrived, on both sides (sources/settling.py).
"""

import datetime as dt
from collections import defaultdict

import numpy as np
from django.db.models import Sum
from scipy.special import gammaincc

from sources import settling
from sources.checks import Problem, record
from sources.models import DataCheck, Measure, Source

CONVERSIONS, CUSTOMERS = "conversions", "customers"
SPANS = (3, 5, 7)  # days pooled: a break shows over days, not in one day's lumpy count
TRACKING_DAYS = 42  # judged at each pull: a 21-day window ending a CRM's settled day, and more
HISTORY_DAYS = 56  # the days before a span that say how many conversions a customer brings
MIN_HISTORY_CUSTOMERS = 20  # fewer customers than this in them: the ratio is not known
MIN_EXPECTED = 10.0  # fewer conversions expected over a span than this: not judged
TRACKING_FALL = 0.5  # fewer than half of the conversions expected ...
TRACKING_SURE = 1e-4  # ... and that few by chance less often than this
SETTLED_ENOUGH = 0.8  # the share of a day's final value its curve expects, to be judged
# Eight weeks of days estimate the dispersion to about ±20 %: judged at its upper end, so an
# estimate on the low side does not make chance look like a break (on the simulated market,
# 40 seeds: false breaks on 6 of them at 1.0, 1 at 1.4; docs/market.md).
DISPERSION_MARGIN = 1.4


def check_tracking(*, source: Source, as_of: dt.date) -> list[DataCheck]:
    """Judge the platform source's conversions of the last TRACKING_DAYS days against the
    CRM customers of its channel (from every other source); return the checks open now. A
    source with no conversions or a channel with no customers is left alone."""
    first = as_of - dt.timedelta(days=TRACKING_DAYS + HISTORY_DAYS + max(SPANS))
    days = [first + dt.timedelta(days=n) for n in range((as_of - first).days)]
    conversions = _daily(source, CONVERSIONS, days=days, as_of=as_of)
    customers = None
    if conversions is not None:
        customers = _daily(source, CUSTOMERS, days=days, as_of=as_of, others=True)
    problems = []
    if customers is not None:
        judged = len(days) - TRACKING_DAYS
        problems = find_breaks(conversions, customers, days=days, judged_from=judged)
    in_scope = DataCheck.objects.filter(
        source=source, kind=DataCheck.Kind.TRACKING, day__gte=days[-TRACKING_DAYS]
    )
    return record(source=source, problems=problems, in_scope=in_scope)


def _daily(
    source: Source, name: str, *, days: list[dt.date], as_of: dt.date, others: bool = False
) -> np.ndarray | None:
    """The measure's daily totals over `days` (of this source, or with `others` of every
    other source on this source's channels), NaN on a day too young to judge or with no
    row; None when there is no row at all."""
    rows = Measure.objects.filter(name=name, date__gte=days[0], date__lte=days[-1]).readable()
    if others:
        channels = Measure.objects.filter(source=source, date__gte=days[0], name=CONVERSIONS)
        rows = rows.exclude(source=source).filter(channel__in=channels.values("channel").distinct())
    else:
        rows = rows.filter(source=source)
    sums = rows.values_list("source", "date").annotate(Sum("value")).order_by()
    by_source = defaultdict(dict)
    for source_id, day, total in sums:
        by_source[source_id][day] = float(total)
    if not by_source:
        return None
    if others:
        curves = settling.curves_of(list(by_source), name)
        _zero_where_delivered(by_source, name, since=days[0], until=days[-1])
    else:
        curves = {source.pk: settling.curves_for(source, [name])[name]}
    totals = np.zeros(len(days))
    for source_id, shares in curves.items():
        totals += _settled(shares, by_source[source_id], days=days, as_of=as_of)
    return totals


def _zero_where_delivered(by_source: dict, name: str, *, since: dt.date, until: dt.date) -> None:
    """A day a source delivered the measure for some channel but not this one is a 0 for
    it, not an unknown: a CRM has no row for a channel on a day nobody bought from it."""
    delivered = (
        Measure.objects.filter(source__in=list(by_source), name=name)
        .filter(date__gte=since, date__lte=until)
        .values_list("source", "date")
        .distinct()
    )
    for source_id, day in delivered:
        by_source[source_id].setdefault(day, 0.0)


def _settled(
    shares: tuple[float, ...], values: dict, *, days: list[dt.date], as_of: dt.date
) -> np.ndarray:
    """One source's daily values as they will end (each divided by the share its curve
    expects at the day's age), NaN for a day with no value or below SETTLED_ENOUGH."""
    out = np.full(len(days), np.nan)
    for n, day in enumerate(days):
        age = max((as_of - day).days, 1)
        share = shares[age - 1] if age <= len(shares) else 1.0
        if day in values and share >= SETTLED_ENOUGH:
            out[n] = values[day] / share
    return out


def find_breaks(
    conversions: np.ndarray, customers: np.ndarray, *, days: list[dt.date], judged_from: int
) -> list[Problem]:
    """Pure: a Problem for each day from `judged_from` on that fell itself (fewer than
    TRACKING_FALL of what its customers bring) inside a span of SPANS days whose
    conversions fell against its customers (module docstring); NaN days are not known."""
    flagged: dict[int, tuple[float, str]] = {}
    for start, end in _candidates(conversions, customers, judged_from=judged_from):
        found = _fall(conversions, customers, start=start, end=end)
        if found is None:
            continue
        sure, per_customer, message = found
        message = f"{days[start]} to {days[end]}: {message}"
        for n in range(max(start, judged_from), end + 1):
            fell = conversions[n] <= TRACKING_FALL * per_customer * customers[n]
            if fell and (n not in flagged or sure < flagged[n][0]):
                flagged[n] = (sure, message)
    return [
        Problem(DataCheck.Kind.TRACKING, days[n], message, subject=CONVERSIONS)
        for n, (_, message) in sorted(flagged.items())
    ]


def _candidates(
    conversions: np.ndarray, customers: np.ndarray, *, judged_from: int
) -> list[tuple[int, int]]:
    """(start, end) of the spans ending from `judged_from` on worth judging, by end then
    span: every day known, and fewer conversions than TRACKING_FALL of what the days before
    make of their customers. Prefix sums screen every span at once; `_fall` judges the few
    left."""
    known = ~np.isnan(conversions) & ~np.isnan(customers)
    seen = np.concatenate([[0.0], np.cumsum(np.where(known, conversions, 0.0))])
    won = np.concatenate([[0.0], np.cumsum(np.where(known, customers, 0.0))])
    unknown = np.concatenate([[0], np.cumsum(~known)])
    found = []
    for order, span in enumerate(SPANS):
        ends = np.arange(max(judged_from, span - 1), len(conversions))
        starts = ends - span + 1
        before = np.maximum(starts - HISTORY_DAYS, 0)
        rate = np.divide(
            seen[starts] - seen[before],
            won[starts] - won[before],
            out=np.zeros(len(ends)),
            where=won[starts] > won[before],
        )
        expected = rate * (won[ends + 1] - won[starts])
        fell = seen[ends + 1] - seen[starts] < TRACKING_FALL * expected
        whole = unknown[ends + 1] == unknown[starts]
        chosen = fell & whole & (expected >= MIN_EXPECTED)
        found += [
            (int(e), order, int(s)) for s, e in zip(starts[chosen], ends[chosen], strict=True)
        ]
    return [(start, end) for end, _, start in sorted(found)]


def _fall(
    conversions: np.ndarray, customers: np.ndarray, *, start: int, end: int
) -> tuple[float, float, str] | None:
    """(how likely by chance, conversions per customer, what fell) when the span's
    conversions fell against its customers, else None."""
    history = slice(max(start - HISTORY_DAYS, 0), start)
    span = slice(start, end + 1)
    known = ~np.isnan(conversions[history]) & ~np.isnan(customers[history])
    seen, won = conversions[history][known], customers[history][known]
    if np.isnan(conversions[span]).any() or np.isnan(customers[span]).any():
        return None
    if won.sum() < MIN_HISTORY_CUSTOMERS or seen.sum() <= 0:
        return None
    per_customer = seen.sum() / won.sum()
    expected = per_customer * customers[span].sum()
    observed = conversions[span].sum()
    if expected < MIN_EXPECTED or observed >= TRACKING_FALL * expected:
        return None
    # Quasi-Poisson: conversions vary more than Poisson around what the customers bring,
    # by the history's own dispersion; P(X <= x) of a Poisson(lambda) is Q(x + 1, lambda).
    spread = float(((seen - per_customer * won) ** 2).sum() / seen.sum())
    dispersion = max(1.0, spread) * DISPERSION_MARGIN
    sure = float(gammaincc(observed / dispersion + 1, expected / dispersion))
    if sure >= TRACKING_SURE:
        return None
    won = f"{customers[span].sum():.0f} customers the CRM recorded"
    return (
        sure,
        per_customer,
        f"{observed:.0f} conversions, where the {won} usually bring {expected:.0f} "
        "(is the conversion tracking broken?)",
    )
