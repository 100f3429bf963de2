"""A metric's value read against its target: what the page and the CSV show for one cell."""

from dataclasses import dataclass

from django.conf import settings

from constraints.models import Metric


class computed_once:
    """functools.cached_property without its lock: Python 3.11 takes an RLock on each first
    read of each property, which cost more than computing a table cell's words (3.12 drops it).
    Readings are values, built and read on one thread."""

    def __init__(self, func) -> None:
        self.func, self.__doc__ = func, func.__doc__

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value


# The tolerance within which a value counts as "at" its target rather than above or below.
AT_TARGET = 0.005


def currency_symbol() -> str:
    return getattr(settings, "CURRENCY_SYMBOL", "$")


def format_value(metric: Metric, value: float | None, *, trim: bool = False) -> str:
    """'$41.20', '$438', '3.42%', '1,204', or an em dash (Metric.format)."""
    return metric.format(value, trim=trim)


@dataclass(frozen=True)
class Reading:
    metric: Metric
    value: float | None
    window: str = ""  # "Yesterday", "7 days"… when the reading is one of several windows
    doubt: str = ""  # an open data check on the numbers behind it, in words

    @computed_once
    def display(self) -> str:
        return format_value(self.metric, self.value)

    @computed_once
    def target_display(self) -> str:
        target = self.metric.target
        return (
            "no target" if target is None else format_value(self.metric, float(target), trim=True)
        )

    @computed_once
    def csv_value(self) -> str:
        """The value rounded as the CSV carries it; empty when there is none."""
        return "" if self.value is None else f"{self.value:.2f}"

    @computed_once
    def on_target(self) -> bool | None:
        return self.metric.is_on_target(self.value)

    @computed_once
    def gap_pct(self) -> float | None:
        """How far the value is from the target, in % of the target (+ above, − below)."""
        target = self.metric.target
        if self.value is None or not target:
            return None
        return (self.value - float(target)) / abs(float(target)) * 100

    @computed_once
    def position(self) -> str:
        """'above', 'below' or 'at' the target; '' when unknown."""
        gap = self.gap_pct
        if gap is None:
            return ""
        if abs(gap) < AT_TARGET * 100:
            return "at"
        return "above" if gap > 0 else "below"

    @computed_once
    def arrow(self) -> str:
        return {"above": "▲", "below": "▼", "at": "●"}.get(self.position, "")

    @computed_once
    def verdict(self) -> str:
        """'good', 'bad' or 'none': the colour class, always shown with a word and an arrow."""
        return {True: "good", False: "bad"}.get(self.on_target, "none")

    @computed_once
    def label(self) -> str:
        """In words, for people and screen readers: '12% below target $47, on target'."""
        if self.value is None:
            return "no data"
        if self.on_target is None:
            return "no target"
        verdict = "on target" if self.on_target else "off target"
        if self.position == "at":
            return f"at target {self.target_display}, {verdict}"
        return f"{abs(self.gap_pct):.0f}% {self.position} target {self.target_display}, {verdict}"

    @computed_once
    def short_label(self) -> str:
        """'12%' (the arrow says above or below) or 'at target': what fits in a cell."""
        if self.value is None or self.on_target is None:
            return ""
        if self.position == "at":
            return "at target"
        return f"{abs(self.gap_pct):.0f}%"
