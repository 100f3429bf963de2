"""Rules read the blended per-channel metric (spend ÷ CRM customers) as well as the
platform-reported one, so a rule can refuse to raise a channel whose customers cost too much."""

from constraints.models import Decision, Rule
from constraints.rules.evaluation import evaluate
from tests.rules_support import make_rule


def test_it_judges_a_channel_on_its_blended_cac_and_its_platform_cpa(constraint, pulled, day):
    make_rule(
        constraint,
        {"metric_key": "cpa", "comparator": "gt", "threshold": 0, "window_days": 7},
        {"metric_key": "blended_cac", "comparator": "gt", "threshold": 0, "window_days": 7},
        name="both", mode=Rule.Mode.DRY_RUN, action=Rule.Action.NOTIFY,
    )  # fmt: skip
    evaluate(day=day)
    decision = Decision.objects.get(rule__name="both", target="channel:google-ads")
    seen = {c["metric"]: c["value"] for c in decision.seen["conditions"]}
    assert seen["cpa"] > 0 and seen["blended_cac"] > 0
    assert seen["blended_cac"] != seen["cpa"]  # CRM customers, not platform conversions
