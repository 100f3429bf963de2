import json
from io import StringIO

from django.core.management import call_command

from constraints.alerting import raise_alert
from constraints.models import Delivery
from tests.conftest import SLACK_URL


def test_dry_run_prints_what_would_be_sent_and_sends_nothing(slack, db):
    raise_alert(kind="rule", fingerprint="rule:1", title="CAC above 47")
    out = StringIO()
    call_command("send_alerts", "--dry-run", stdout=out)
    assert "would send by slack: CAC above 47" in out.getvalue()
    assert len(slack.calls) == 0
    assert not Delivery.objects.exists()


def test_it_sends_and_reports(slack, db):
    slack.post(SLACK_URL, body="ok")
    raise_alert(kind="rule", fingerprint="rule:1", title="CAC above 47")
    out = StringIO()
    call_command("send_alerts", stdout=out)
    assert "sent by slack: CAC above 47" in out.getvalue()
    assert json.loads(slack.calls[0].request.body)["text"].startswith("CAC above 47")


def test_it_sends_the_digest_on_request_once_a_week(slack, db):
    slack.post(SLACK_URL, body="ok")
    call_command("send_alerts", "--digest", stdout=StringIO())
    call_command("send_alerts", "--digest", stdout=StringIO())
    texts = [json.loads(c.request.body)["text"] for c in slack.calls]
    assert len(texts) == 1
    assert texts[0].startswith("Weekly digest")
