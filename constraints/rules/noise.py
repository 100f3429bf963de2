"""Pure: is a metric past its threshold beyond the noise of the events it counts?

A campaign that won 9 customers in three weeks has a CAC that swings by a third from one
window to the next by chance alone. A condition with a confidence (`Condition.confidence`)
breaches only when the count it saw would be unlikely were the metric exactly at the
threshold: a one-sided Poisson test on the metric's count side (customers for a CAC,
conversions for a conversion rate). With $2,000 spent, a CAC above $650 expects fewer than
3.08 customers; seeing 1 has a chance of 0.19 at the threshold (81 % sure), seeing 0 of 0.046
(95 % sure). Counts may be fractional (a campaign's share of its channel's customers): the
Poisson tail is the regularised incomplete gamma function (scipy.special), continuous in
the count.
"""

import numpy as np
import pandas as pd
from scipy import special


def at_most(count, expected):
    """The chance of `count` events or fewer when `expected` are expected (Poisson); numbers
    or arrays."""
    count, expected = np.asarray(count, dtype=float), np.asarray(expected, dtype=float)
    tail = special.gammaincc(count + 1, np.maximum(expected, 0.0))
    return np.where(expected <= 0, 1.0, tail)[()]


def at_least(count, expected):
    """The chance of `count` events or more when `expected` are expected (Poisson); numbers
    or arrays."""
    count, expected = np.asarray(count, dtype=float), np.asarray(expected, dtype=float)
    tail = special.gammainc(np.maximum(count, np.finfo(float).tiny), np.maximum(expected, 0.0))
    return np.where(count <= 0, 1.0, np.where(expected <= 0, 0.0, tail))[()]


def sureness(count: pd.Series, expected: pd.Series, *, fewer: bool) -> pd.Series:
    """Per target, in %: how sure the count shows a metric past its threshold, where
    `expected` is the count the threshold itself would give and `fewer` says which side of
    it the breach lies (fewer customers than a CAC threshold allows; more conversions than a
    rate threshold needs). 100 − the chance of a count this far out at the threshold; NaN
    where either is missing."""
    count, expected = count.align(expected)
    counts, expecteds = count.to_numpy(dtype=float), expected.to_numpy(dtype=float)
    tail = at_most if fewer else at_least
    with np.errstate(invalid="ignore"):
        values = 100 * (1 - np.atleast_1d(tail(counts, expecteds)))
    values[np.isnan(counts) | np.isnan(expecteds)] = np.nan
    return pd.Series(values, index=count.index, dtype=float)
