import datetime as dt
import json

import pytest
from django.core import mail
from django.utils import timezone

from constraints.alerting import clear_alert, raise_alert
from constraints.alerts.delivery import STALE_CLAIM, send_alerts
from constraints.models import Alert, AlertPolicy, Delivery
from tests.conftest import SLACK_URL

# A Tuesday (in the future, as a snooze must end in the future): the digest (Mondays by
# default) is not due until six days later.
TUESDAY = dt.datetime(2027, 3, 9, 7, 0, tzinfo=dt.UTC)


def posted(slack) -> list[dict]:
    return [json.loads(c.request.body) for c in slack.calls if c.response.status_code == 200]


def posts(slack) -> list[dict]:
    """Alert messages posted (the weekly digest apart)."""
    return [p for p in posted(slack) if not p["text"].startswith("Weekly digest")]


def digests(slack) -> list[dict]:
    return [p for p in posted(slack) if p["text"].startswith("Weekly digest")]


def event(n: int, *, severity: str = Alert.Severity.WARNING, **kwargs) -> Alert:
    return raise_alert(
        kind=Alert.Kind.RULE,
        fingerprint=f"rule:{n}",
        title=f"Event {n}",
        body=f"CAC {40 + n} above threshold 47",
        severity=severity,
        **kwargs,
    )


@pytest.fixture
def ok(slack):
    slack.post(SLACK_URL, body="ok")
    return slack


def test_it_sends_ten_events_of_a_week_in_three_posts_and_holds_the_rest(ok, db):
    per_day = [2, 1, 2, 1, 2, 1, 1]
    n = 0
    for offset, count in enumerate(per_day):
        for _ in range(count):
            n += 1
            event(n)
        send_alerts(now=TUESDAY + dt.timedelta(days=offset))
    assert len(posts(ok)) == 3
    assert Alert.objects.count() == 10
    states = sorted(alert.delivery_state() for alert in Alert.objects.all())
    assert states == ["held"] * 7 + ["sent"] * 3
    annotated = sorted(a.delivery_state() for a in Alert.objects.with_delivery_state())
    assert annotated == states
    [digest] = digests(ok)  # the last day is a Monday
    held = Alert.objects.filter(deliveries__state="held")
    assert all(alert.title in digest["text"] for alert in held)


def test_it_lists_held_alerts_in_the_weekly_digest(ok, db):
    for n in range(6):
        event(n)
    send_alerts(now=TUESDAY)
    assert len(posts(ok)) == 3
    send_alerts(now=TUESDAY + dt.timedelta(days=6))  # Monday
    [digest] = digests(ok)
    assert "Held back by the weekly budget" in digest["text"]
    assert all(f"Event {n}" in digest["text"] for n in (3, 4, 5))
    assert Delivery.objects.filter(kind=Delivery.Kind.DIGEST, state="sent").count() == 1
    send_alerts(now=TUESDAY + dt.timedelta(days=6, hours=2))
    assert len(digests(ok)) == 1


def test_it_lets_critical_alerts_exceed_the_budget(ok, db):
    for n in range(3):
        event(n)
    event(9, severity=Alert.Severity.CRITICAL)
    send_alerts(now=TUESDAY)
    assert len(posts(ok)) == 3
    assert "Event 9" in posts(ok)[0]["text"]
    AlertPolicy.objects.update(exceed_budget=AlertPolicy.BudgetExemption.NONE)
    event(10, severity=Alert.Severity.CRITICAL)
    send_alerts(now=TUESDAY + dt.timedelta(hours=1))
    assert len(posts(ok)) == 3


def test_it_sends_a_slack_500_then_200_exactly_once(slack, db):
    slack.post(SLACK_URL, status=500, body="rollup_error")
    slack.post(SLACK_URL, body="ok")
    event(1)
    send_alerts(now=TUESDAY)
    send_alerts(now=TUESDAY + dt.timedelta(hours=1))
    assert len(posts(slack)) == 1
    assert Delivery.objects.get().state == Delivery.State.SENT


def test_it_sends_a_claim_left_by_a_killed_worker_once(ok, db):
    event(1)
    send_alerts(now=TUESDAY)
    delivery = Delivery.objects.get()
    # A worker claimed it, then died before posting:
    claimed_at = TUESDAY + dt.timedelta(days=1)
    Delivery.objects.filter(pk=delivery.pk).update(state="sending", claimed_at=claimed_at)
    ok.calls.reset()
    send_alerts(now=claimed_at + dt.timedelta(minutes=5))
    assert posts(ok) == []  # a fresh claim belongs to a live worker
    send_alerts(now=claimed_at + STALE_CLAIM + dt.timedelta(minutes=1))
    send_alerts(now=claimed_at + STALE_CLAIM + dt.timedelta(minutes=2))
    assert len(posts(ok)) == 1
    assert Delivery.objects.get().state == Delivery.State.SENT


def test_it_keeps_a_temporary_failure_pending_and_sends_it_next_run(slack, db):
    for _ in range(4):
        slack.post(SLACK_URL, status=503)
    event(1)
    send_alerts(now=TUESDAY)
    assert Delivery.objects.get().state == Delivery.State.PENDING
    slack.replace("POST", SLACK_URL, body="ok")
    send_alerts(now=TUESDAY + dt.timedelta(days=1))
    assert len(posts(slack)) == 1
    assert Delivery.objects.get().state == Delivery.State.SENT


def test_it_stops_at_a_permanent_error_shows_it_and_falls_back_to_email(slack, settings, db):
    settings.ALERT_EMAIL_TO = ["founder@example.com"]
    slack.post(SLACK_URL, status=404, body="channel_not_found")
    event(1)
    send_alerts(now=TUESDAY)
    failed = Delivery.objects.get(transport="slack")
    assert failed.state == Delivery.State.FAILED
    assert "channel_not_found" in failed.error
    assert len(slack.calls) == 1
    shown = Alert.objects.get(fingerprint="integration:alerting:slack")
    assert "channel_not_found" in shown.body
    assert Delivery.objects.get(transport="email").state == Delivery.State.SENT
    assert mail.outbox[0].subject == "[decisionhub] Event 1"
    assert mail.outbox[0].to == ["founder@example.com"]


def test_it_does_not_repeat_an_open_alert_before_the_repeat_interval(ok, db):
    event(1)
    send_alerts(now=TUESDAY)
    event(1)  # seen again
    send_alerts(now=TUESDAY + dt.timedelta(days=6))
    assert len(posts(ok)) == 1
    send_alerts(now=TUESDAY + dt.timedelta(days=7, hours=1))
    assert len(posts(ok)) == 2


def test_it_sends_a_new_target_of_a_firing_group_sooner(ok, db):
    event(1, group="anomaly:cpc", target="channel:google-ads")
    send_alerts(now=TUESDAY)
    event(2, group="anomaly:cpc", target="channel:meta-ads")
    send_alerts(now=TUESDAY + dt.timedelta(days=1))
    second = posts(ok)[1]["text"]
    assert "Event 2" in second
    assert "Still firing: Event 1" in second


def test_it_groups_related_alerts_into_one_message(ok, db):
    for n in range(4):
        event(n, group="anomaly:2026-03-09")
    send_alerts(now=TUESDAY)
    assert len(posts(ok)) == 1
    assert posts(ok)[0]["blocks"][0]["text"]["text"].startswith("4 alerts")


def test_it_deduplicates_by_fingerprint(ok, db):
    for _ in range(5):
        event(1)
    send_alerts(now=TUESDAY)
    assert Alert.objects.count() == 1
    assert len(posts(ok)) == 1


def test_an_integration_alert_inhibits_what_it_causes(ok, db):
    down = raise_alert(
        kind=Alert.Kind.INTEGRATION,
        fingerprint="integration:ga4:sync",
        title="GA4 is down",
        severity=Alert.Severity.CRITICAL,
        source="ga4",
    )
    for channel in ("google-ads", "meta-ads", "email"):
        raise_alert(
            kind=Alert.Kind.ANOMALY,
            fingerprint=f"anomaly:conversion-rate:{channel}",
            title=f"Conversion rate dropped on {channel}",
            sources=["ga4", "google-ads"],
            group="anomaly:2026-03-09",
        )
    send_alerts(now=TUESDAY)
    assert [p["blocks"][0]["text"]["text"] for p in posts(ok)] == ["GA4 is down"]
    assert Alert.objects.filter(inhibited_by=down).count() == 3
    assert Alert.objects.get(fingerprint="anomaly:conversion-rate:email").delivery_state() == (
        "inhibited"
    )


def test_resolving_the_cause_releases_what_it_inhibited(ok, db):
    raise_alert(kind="integration", fingerprint="integration:ga4:sync", title="GA4", source="ga4")
    raise_alert(kind="anomaly", fingerprint="anomaly:cr:email", title="CR drop", sources=["ga4"])
    send_alerts(now=TUESDAY)
    clear_alert(fingerprint="integration:ga4:sync")
    send_alerts(now=TUESDAY + dt.timedelta(hours=1))
    assert "CR drop" in posts(ok)[-1]["text"]


def test_it_does_not_remind_about_acknowledged_or_snoozed_alerts(ok, db):
    event(1).acknowledge()
    event(2).snooze(until=TUESDAY + dt.timedelta(days=2))
    send_alerts(now=TUESDAY)
    assert posts(ok) == []
    send_alerts(now=TUESDAY + dt.timedelta(days=3))
    assert [p["blocks"][0]["text"]["text"] for p in posts(ok)] == ["Event 2"]


def test_a_dry_run_sends_and_writes_nothing(ok, db):
    for n in range(5):
        event(n)
    report = send_alerts(dry_run=True, now=TUESDAY + dt.timedelta(days=6))
    assert posts(ok) == []
    assert Delivery.objects.count() == 0
    assert not Alert.objects.filter(notified_at__isnull=False).exists()
    assert sum("would send by slack" in line for line in report.lines) == 3
    assert sum("would hold for the digest" in line for line in report.lines) == 2
    assert any("weekly digest" in line for line in report.lines)


def test_it_sends_the_message_with_numbers_and_a_dashboard_link(ok, settings, db):
    settings.DASHBOARD_URL = "https://hub.example.com/"
    event(1)
    send_alerts(now=TUESDAY)
    message = posts(ok)[0]
    assert "CAC 41 above threshold 47" in json.dumps(message["blocks"])
    assert "<https://hub.example.com/|Open the dashboard>" in json.dumps(message["blocks"])


def test_it_records_nothing_without_a_channel(settings, db):
    settings.SLACK_WEBHOOK_URL = ""
    settings.ALERT_EMAIL_TO = []
    event(1)
    report = send_alerts(now=TUESDAY)
    assert Delivery.objects.count() == 0
    assert "No alert channel configured" in report.lines[0]
    assert Alert.objects.get().delivery_state() == "not sent yet"


def test_it_uses_email_when_slack_is_not_configured(settings, db):
    settings.SLACK_WEBHOOK_URL = ""
    AlertPolicy.objects.update_or_create(pk=1, defaults={"email_to": "ops@example.com, a@b.co"})
    event(1)
    send_alerts(now=timezone.now())
    assert mail.outbox[0].to == ["ops@example.com", "a@b.co"]
    assert "CAC 41 above threshold 47" in mail.outbox[0].body


def test_it_reminds_when_a_snooze_ends(ok, db):
    alert = event(1)
    send_alerts(now=TUESDAY)
    alert.snooze(until=TUESDAY + dt.timedelta(days=2))
    send_alerts(now=TUESDAY + dt.timedelta(days=1))
    assert len(posts(ok)) == 1
    send_alerts(now=TUESDAY + dt.timedelta(days=2, hours=1))
    assert len(posts(ok)) == 2
    send_alerts(now=TUESDAY + dt.timedelta(days=3))
    assert len(posts(ok)) == 2


def test_an_alert_getting_worse_is_sent_again_sooner(ok, db):
    event(1)
    send_alerts(now=TUESDAY)
    event(1, severity=Alert.Severity.WARNING)
    send_alerts(now=TUESDAY + dt.timedelta(hours=1))
    assert len(posts(ok)) == 1
    event(1, severity=Alert.Severity.CRITICAL)
    send_alerts(now=TUESDAY + dt.timedelta(hours=2))
    assert len(posts(ok)) == 2


def test_a_failing_detector_is_shown_and_does_not_stop_delivery(ok, db, monkeypatch):
    def broken(**kwargs):
        raise ValueError("bad frame")

    monkeypatch.setattr("constraints.alerts.delivery.detect_anomalies", broken)
    event(1)
    send_alerts(now=TUESDAY)
    titles = sorted(p["blocks"][0]["text"]["text"] for p in posts(ok))
    assert titles == ["Anomaly detection failed", "Event 1"]
    assert "ValueError: bad frame" in Alert.objects.get(title="Anomaly detection failed").body


# The day's proposals travel inside the weekly budget, in the day's alert message; the
# buttons are Block Kit `actions` blocks (https://api.slack.com/reference/block-kit/blocks#actions).
def proposal(pk: int) -> Alert:
    """A proposal's announcement, as constraints.rules.approval.announce raises it."""
    return raise_alert(
        kind=Alert.Kind.ACTION,
        fingerprint=f"proposal:{pk}",
        severity=Alert.Severity.INFO,
        title=f"Waiting for approval: Raise budget → Campaign {pk}",
        body=f"CPA $40.{pk:02d} under target $47: $120.00 → $144.00",
        data={"proposal": pk, "day": "2027-03-08"},
        target=f"campaign:{pk}",
        group="proposals:2027-03-08",
    )


def buttons(message: dict) -> list[tuple[str, str]]:
    return [
        (element["action_id"], element["value"])
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_the_days_proposals_ride_in_the_days_alert_message(ok, db):
    event(1)
    proposal(7)
    proposal(8)
    send_alerts(now=TUESDAY)
    (message,) = posts(ok)
    assert message["blocks"][0]["text"]["text"] == ("Event 1; 2 proposals waiting for approval")
    assert "CAC 41 above threshold 47" in message["text"]
    assert "CPA $40.07 under target $47: $120.00 → $144.00" in message["text"]
    assert buttons(message) == [
        ("approve_decision", "7"), ("reject_decision", "7"),
        ("approve_decision", "8"), ("reject_decision", "8"),
    ]  # fmt: skip
    (delivery,) = Delivery.objects.all()
    assert delivery.alerts.count() == 3
    assert Delivery.objects.counted_in_budget(now=TUESDAY).messages() == 1


def test_proposals_ride_in_the_most_severe_message_sent(ok, db):
    event(1)
    event(2, severity=Alert.Severity.CRITICAL)
    proposal(7)
    send_alerts(now=TUESDAY)
    first, second = posts(ok)
    assert first["blocks"][0]["text"]["text"].startswith("Event 2; 1 proposal waiting")
    assert buttons(first) == [("approve_decision", "7"), ("reject_decision", "7")]
    assert buttons(second) == []


def test_proposals_alone_are_one_message_inside_the_budget(ok, db):
    proposal(7)
    proposal(8)
    send_alerts(now=TUESDAY)
    (message,) = posts(ok)
    assert message["blocks"][0]["text"]["text"] == "2 proposals waiting for approval"
    assert len(buttons(message)) == 4
    assert Delivery.objects.counted_in_budget(now=TUESDAY).messages() == 1


def test_proposals_wait_for_the_digest_when_the_budget_is_spent(ok, db):
    for n in range(3):  # the default budget: three messages a week
        event(n)
    send_alerts(now=TUESDAY)
    assert len(posts(ok)) == 3
    proposal(7)
    send_alerts(now=TUESDAY + dt.timedelta(days=1))
    assert len(posts(ok)) == 3
    held = Delivery.objects.get(alerts__fingerprint="proposal:7")
    assert held.state == Delivery.State.HELD
    send_alerts(now=TUESDAY + dt.timedelta(days=6))  # Monday: the digest
    [digest] = digests(ok)
    assert "Waiting for approval: Raise budget → Campaign 7" in digest["text"]


def test_proposals_do_not_ride_in_a_held_message(ok, db):
    for n in range(3):
        event(n)
    send_alerts(now=TUESDAY)
    event(5)
    proposal(7)
    send_alerts(now=TUESDAY + dt.timedelta(hours=1))
    assert len(posts(ok)) == 3
    assert set(
        Delivery.objects.filter(state="held").values_list("alerts__fingerprint", flat=True)
    ) == {
        "rule:5",
        "proposal:7",
    }


def test_it_reads_the_latest_delivery_state_with_the_alerts_in_one_query(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    quiet, told = event(1), event(2)
    for state, minutes in ((Delivery.State.FAILED, 0), (Delivery.State.SENT, 5)):
        delivery = Delivery.objects.create(
            key=f"k{minutes}", message=f"m{minutes}", transport=Delivery.Transport.SLACK,
            state=state, created_at=TUESDAY + dt.timedelta(minutes=minutes),
        )  # fmt: skip
        delivery.alerts.add(told)
    with CaptureQueriesContext(connection) as queries:
        states = {a.pk: a.delivery_state() for a in Alert.objects.with_delivery_state()}
    assert states == {quiet.pk: "not sent yet", told.pk: "sent"}
    assert states[told.pk] == Alert.objects.get(pk=told.pk).delivery_state()
    assert len(queries) == 1
