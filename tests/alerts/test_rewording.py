"""Alert texts stored before numbers carried their metric's unit are written again from the
alert's numbers (constraints/alerts/rewording.py, applied by migration 0012)."""

import importlib

from django.apps import apps

from constraints.alerting import raise_alert
from constraints.models import Alert, Rule
from constraints.rules.evaluation import evaluate
from sources.models import Channel
from tests.rules_support import make_rule

MIGRATION = importlib.import_module("constraints.migrations.0012_reword_alert_texts")
OLD_TITLE = "Cost per acquisition on Meta Ads jumped to 203.34 on Sun 08 Mar (usually 62.27)"


def old_anomaly() -> Alert:
    """An anomaly alert as stored before the formatting change (its data as stored then)."""
    Channel.objects.create(key="meta-ads", name="Meta Ads")
    return raise_alert(
        kind=Alert.Kind.ANOMALY,
        fingerprint="anomaly:cpa:meta-ads",
        title=OLD_TITLE,
        body="On Sun 08 Mar 2026, Cost per acquisition on Meta Ads was 203.34 against a usual "
        "62.27 on the last 8 Sundays, which usually vary by ±12%: 4.1 deviations away; "
        "alerts start at 3. Target: 47.00.",
        data={"metric": "cpa", "channel": "meta-ads", "day": "2026-03-08", "value": 203.34,
              "baseline": 62.27, "spread": 0.12, "score": 4.1, "threshold": 3.0},
    )  # fmt: skip


def test_it_writes_an_old_anomaly_alert_again_in_the_metrics_unit(constraint):
    alert = old_anomaly()
    MIGRATION.reword_alert_texts(apps, None)
    alert.refresh_from_db()
    assert alert.title == (
        "Cost per acquisition on Meta Ads jumped to $203 on Sun 08 Mar (usually $62.27)"
    )
    assert "was $203 against a usual $62.27" in alert.body
    assert alert.body.endswith("Target: $47.00.")


def test_it_writes_an_old_rule_alert_again_from_what_its_decision_saw(
    constraint,
    pulled,
    day,
):
    rule = make_rule(constraint, {"metric_key": "cpa", "comparator": "gt", "threshold": 0},
                     scope=Rule.Scope.CHANNELS, mode=Rule.Mode.AUTOMATIC)  # fmt: skip
    rule.channels.add(pulled.measures_set.first().channel)
    evaluate(day=day)
    alert = Alert.objects.get(kind=Alert.Kind.RULE)
    today = alert.body
    value = alert.data["conditions"][0]["value"]
    Alert.objects.filter(pk=alert.pk).update(body=f"cpa {value:,.4g} (rule: > 0)")  # as stored
    MIGRATION.reword_alert_texts(apps, None)
    alert.refresh_from_db()
    assert alert.body == today
    assert alert.body.startswith("Cost per acquisition $")


def test_it_leaves_alerts_without_the_numbers_as_they_are(constraint):
    other = raise_alert(kind=Alert.Kind.INTEGRATION, fingerprint="integration:ga4",
                        title="GA4 returned 200.84 rows", body="as it was")  # fmt: skip
    unknown = raise_alert(kind=Alert.Kind.ANOMALY, fingerprint="anomaly:gone:x", title="old",
                          data={"metric": "gone"})  # fmt: skip
    MIGRATION.reword_alert_texts(apps, None)
    assert Alert.objects.get(pk=other.pk).title == "GA4 returned 200.84 rows"
    assert Alert.objects.get(pk=unknown.pk).title == "old"
