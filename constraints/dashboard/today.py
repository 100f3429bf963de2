"""The first screen: one sentence that says what to do today, and the pending proposals with
what each would change and the numbers that fired it.

Built from what `page.build` already read (the pending decisions, the channel rows and their
recommendations, the metrics): no query of its own but the rules' conditions, prefetched.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from constraints.dashboard.readings import currency_symbol, format_value
from constraints.dashboard.recommendations import PAUSE, advice_of
from constraints.models import Decision, Metric, Rule

# How one proposal is counted in the sentence: "3 budget raises".
NOUNS = {
    "raise": ("budget raise", "budget raises"),
    "lower": ("budget cut", "budget cuts"),
    "pause": ("pause", "pauses"),
    "hold": ("action", "actions"),
}
LABEL_SEPARATOR = " › "  # target labels read "Google Ads › Search - Brand"


@dataclass
class Proposal:
    decision: Decision
    channel: str
    change: str  # "$120.00 → $144.00", "running → paused", or "" when unknown
    fired_by: list[str]  # "Cost per acquisition $41.20 (yesterday) > 0"

    @property
    def pk(self) -> int:
        return self.decision.pk

    @property
    def rule(self) -> Rule:
        return self.decision.rule


@dataclass
class Today:
    sentence: str
    proposals: list[Proposal] = field(default_factory=list)

    @property
    def pks(self) -> str:
        """The proposals' ids, for the 'Approve all' form."""
        return ",".join(str(p.pk) for p in self.proposals)


def build_today(*, pending: list[Decision], rows: list, metrics: list[Metric], headline) -> Today:
    """`rows`: the page's ChannelRows; `headline`: its Headline or None."""
    by_key = {m.key: m for m in metrics}
    proposals = [proposal_of(d, metrics=by_key) for d in pending]
    return Today(sentence=sentence(proposals=proposals, rows=rows, headline=headline),
                 proposals=proposals)  # fmt: skip


def proposal_of(decision: Decision, *, metrics: dict[str, Metric]) -> Proposal:
    channel = (decision.target_label or decision.target).split(LABEL_SEPARATOR)[0]
    return Proposal(decision=decision, channel=channel, change=change_words(decision),
                    fired_by=fired_by(decision, metrics=metrics))  # fmt: skip


def change_words(decision: Decision) -> str:
    """What approving changes, from the values read when it was proposed."""
    before, after = decision.before_value, decision.after_value
    if before is not None and after is not None:
        symbol = currency_symbol()
        return f"daily budget {symbol}{before:,.2f} → {symbol}{after:,.2f}"
    if decision.before_status and decision.after_status:
        return f"{decision.before_status.lower()} → {decision.after_status.lower()}"
    return ""


def fired_by(decision: Decision, *, metrics: dict[str, Metric]) -> list[str]:
    """Each condition as the rule saw it: 'Cost per acquisition $41.20 over 7 days (< 47)'."""
    conditions = (decision.seen or {}).get("conditions", [])
    return [condition_words(seen, metrics=metrics) for seen in conditions]


def condition_words(seen: dict, *, metrics: dict[str, Metric]) -> str:
    """One condition of a ledger entry's `seen`, in its metric's label and unit:
    'Blended CAC $2,545 over 21 days (rule: > $650)'."""
    metric = metrics.get(seen.get("metric", ""))
    label = metric.label if metric else seen.get("metric", "")
    value = seen.get("value")
    shown = format_value(metric, value) if metric else ("—" if value is None else f"{value}")
    days = seen.get("window_days") or 1
    window = "yesterday" if days == 1 else f"over {days} days"
    test = seen.get("test", "")
    if seen.get("change_pct") is not None:
        shown = f"{seen['change_pct']:+.1f}% vs the period before"
    elif metric is not None:
        test = _in_unit(test, metric)
        if value is None and seen.get("sure") is not None:  # spend with no customers
            shown = f"with no {metric.denominator.replace('_', ' ')}"
    if seen.get("confidence") is not None:
        sure = seen.get("sure")
        here = "" if sure is None else f"; {sure:.0f}% here"
        test += f", {seen['confidence']}% sure{here}"
    return f"{label} {shown} {window} (rule: {test})"


def _in_unit(test: str, metric: Metric) -> str:
    """'< 47' → '< $47': a threshold in its metric's unit, as the page shows values."""
    comparator, _, threshold = test.rpartition(" ")
    try:
        return f"{comparator} {format_value(metric, float(threshold), trim=True)}".strip()
    except ValueError:
        return test


def sentence(*, proposals: list[Proposal], rows: list, headline) -> str:
    """'Approve 3 budget raises on Google Ads; Meta Ads misses every target — pause proposed.'"""
    parts = []
    advice = {row.channel.name: row.recommendation for row in rows if row.channel is not None}
    agreed = [p for p in proposals if _agrees(p, advice.get(p.channel))]
    if agreed:
        parts.append("Approve " + _and(_counted(agreed)))
    judge = f"{headline.metric.label} there" if headline is not None else "its headline"
    for channel, count_words in _disputed(proposals, advice):
        parts.append(f"Review {count_words} on {channel}: {judge} says {advice[channel].action}")
    proposed_pauses = {p.channel for p in proposals if advice_of(p.decision) == PAUSE}
    for row in rows:
        if row.recommendation.action == PAUSE and row.channel is not None:
            name = row.channel.name
            tail = "pause proposed" if name in proposed_pauses else "consider pausing it"
            parts.append(f"{name} misses every target — {tail}")
    if not parts:
        return f"Nothing waits for your approval today. {_headline_words(headline)}".strip()
    return "; ".join(parts) + "."


def _agrees(proposal: Proposal, recommendation) -> bool:
    """Whether the channel's recommendation (headline included) backs the proposal."""
    if recommendation is None or recommendation.decision is None:
        return True
    return recommendation.action == advice_of(proposal.decision)


def _disputed(proposals: list[Proposal], advice: dict) -> list[tuple[str, str]]:
    """(channel, '3 budget raises') for proposals their channel's headline disagrees with."""
    disputed = [p for p in proposals if not _agrees(p, advice.get(p.channel))]
    by_channel: dict[str, list[Proposal]] = defaultdict(list)
    for proposal in disputed:
        by_channel[proposal.channel].append(proposal)
    return [(channel, _and([w.rsplit(" on ", 1)[0] for w in _counted(group)]))
            for channel, group in by_channel.items()]  # fmt: skip


def _counted(proposals: list[Proposal]) -> list[str]:
    groups: dict[tuple[str, str], int] = defaultdict(int)
    for proposal in proposals:
        groups[(advice_of(proposal.decision), proposal.channel)] += 1
    words = []
    for (advice, channel), count in groups.items():
        one, many = NOUNS.get(advice, NOUNS["hold"])
        words.append(f"{count} {one if count == 1 else many} on {channel}")
    return words


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _headline_words(headline) -> str:
    """'Blended CAC is $438: 4% above target $420, off target.' or ''."""
    if headline is None or headline.reading.value is None:
        return ""
    return f"{headline.metric.label} is {headline.reading.display}: {headline.reading.label}."
