"""Pure: is a metric past its threshold beyond the noise of the events it counts?

A campaign that won 9 customers in three weeks has a CAC that swings by a third from one
window to the next by chance alone. A condition with a confidence (`Condition.confidence`)
breaches only when the count it saw would be unlikely were the metric exactly at the
threshold: a one-sided Poisson test on the metric's count side (customers for a CAC,
conversions for a conversion rate). With $2,000 spent, a CAC above $650 expects fewer than
3.08 customers; seeing 1 has a chance of 0.19 at the threshold (81 % sure), seeing 0 of 0.046
(95 % sure). Counts may be fractional (a campaign's share of its channel's customers): the
Poisson tail is the regularised incomplete gamma function, continuous in the count.
"""

import math

import numpy as np
import pandas as pd

# Numerical Recipes' series and continued fraction (Press et al., 3rd ed., §6.2).
_EPSILON = 1e-12
_ITERATIONS = 500
_TINY = 1e-300


def lower_gamma(a: float, x: float) -> float:
    """P(a, x), the regularised lower incomplete gamma function, for a > 0, x ≥ 0."""
    if x <= 0:
        return 0.0
    if x < a + 1:
        return _series(a, x)
    return 1.0 - _fraction(a, x)


def _series(a: float, x: float) -> float:
    term = total = 1.0 / a
    denominator = a
    for _ in range(_ITERATIONS):
        denominator += 1
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _EPSILON:
            break
    return min(total * math.exp(-x + a * math.log(x) - math.lgamma(a)), 1.0)


def _fraction(a: float, x: float) -> float:
    """Q(a, x) by Lentz's continued fraction, for x ≥ a + 1."""
    b = x + 1 - a
    c, d = 1 / _TINY, 1 / b
    h = d
    for i in range(1, _ITERATIONS):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < _EPSILON:
            break
    return min(math.exp(-x + a * math.log(x) - math.lgamma(a)) * h, 1.0)


def at_most(count: float, expected: float) -> float:
    """The chance of `count` events or fewer when `expected` are expected (Poisson)."""
    if expected <= 0:
        return 1.0
    return 1.0 - lower_gamma(count + 1, expected)


def at_least(count: float, expected: float) -> float:
    """The chance of `count` events or more when `expected` are expected (Poisson)."""
    if count <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    return lower_gamma(count, expected)


def sureness(count: pd.Series, expected: pd.Series, *, fewer: bool) -> pd.Series:
    """Per target, in %: how sure the count shows a metric past its threshold, where
    `expected` is the count the threshold itself would give and `fewer` says which side of
    it the breach lies (fewer customers than a CAC threshold allows; more conversions than a
    rate threshold needs). 100 − the chance of a count this far out at the threshold; NaN
    where either is missing."""
    count, expected = count.align(expected)
    tail = at_most if fewer else at_least
    values = [
        np.nan if (math.isnan(c) or math.isnan(e)) else 100 * (1 - tail(c, e))
        for c, e in zip(count.tolist(), expected.tolist(), strict=True)
    ]
    return pd.Series(values, index=count.index, dtype=float)
