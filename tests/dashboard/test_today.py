"""The first screen's sentence and proposals (constraints/dashboard/today.py)."""

from decimal import Decimal

from constraints.dashboard.page import ChannelRow
from constraints.dashboard.recommendations import Recommendation
from constraints.dashboard.today import build_today
from constraints.models import Decision, Metric, Rule
from sources.models import Channel

CPA = Metric(key="cpa", label="CPA", unit="currency", direction="lower", target=Decimal(47))


def proposal(action: str, label: str, **fields) -> Decision:
    rule = Rule(name="Scale search", action=action, action_value=Decimal(20))
    seen = {"conditions": [{"metric": "cpa", "test": "< 47", "window_days": 7, "value": 43.92}]}
    return Decision(rule=rule, target_label=label, status="proposed", seen=seen, **fields)


def row(name: str, action: str) -> ChannelRow:
    return ChannelRow(channel=Channel(key=name.lower(), name=name), cells=[],
                      recommendation=Recommendation(action, "", "drivers"))  # fmt: skip


def test_it_says_what_to_approve_and_what_to_pause_in_one_sentence():
    pending = [proposal("raise_budget", f"Google Ads › Campaign {i}") for i in range(3)]
    pending.append(proposal("pause", "Meta Ads › Retargeting"))
    rows = [row("Google Ads", "raise"), row("Meta Ads", "pause"), row("LinkedIn Ads", "pause")]
    today = build_today(pending=pending, rows=rows, metrics=[CPA], headline=None)
    assert today.sentence == (
        "Approve 3 budget raises on Google Ads and 1 pause on Meta Ads; "
        "Meta Ads misses every target — pause proposed; "
        "LinkedIn Ads misses every target — consider pausing it."
    )


def test_it_shows_the_current_and_proposed_budget_and_the_numbers_that_fired():
    decision = proposal("raise_budget", "Google Ads › Brand", before_value=Decimal("120"),
                        after_value=Decimal("144"))  # fmt: skip
    (shown,) = build_today(pending=[decision], rows=[], metrics=[CPA], headline=None).proposals
    assert shown.change == "daily budget $120.00 → $144.00"
    assert shown.fired_by == ["CPA $43.92 over 7 days (rule: < $47)"]
    assert shown.channel == "Google Ads"


def test_it_says_when_nothing_waits():
    today = build_today(pending=[], rows=[row("Google Ads", "hold")], metrics=[], headline=None)
    assert today.sentence == "Nothing waits for your approval today."
    assert today.proposals == []


def test_it_asks_to_review_raises_the_channels_headline_disagrees_with():
    pending = [proposal("raise_budget", f"Google Ads › Campaign {i}") for i in range(3)]
    held = Recommendation("hold", "…", "rules", decision=pending[0])
    google = ChannelRow(channel=Channel(key="google-ads", name="Google Ads"), cells=[],
                        recommendation=held)  # fmt: skip
    today = build_today(pending=pending, rows=[google], metrics=[CPA], headline=None)
    assert today.sentence == "Review 3 budget raises on Google Ads: its headline says hold."
