import json
from urllib.parse import urlsplit

import pytest

from constraints.alerts.transports import Slack, TransportError
from tests.conftest import SLACK_URL

PAYLOAD = {"subject": "CPC jumped", "text": "CPC jumped", "blocks": [{"type": "divider"}]}


def test_it_posts_text_and_blocks(slack):
    slack.post(SLACK_URL, body="ok")
    assert Slack(SLACK_URL).notify(PAYLOAD) == "ok"
    sent = json.loads(slack.calls[0].request.body)
    assert sent == {"text": "CPC jumped", "blocks": [{"type": "divider"}]}


def test_it_retries_a_500_and_posts_once(slack, slept):
    slack.post(SLACK_URL, status=500, body="rollup_error")
    slack.post(SLACK_URL, body="ok")
    assert Slack(SLACK_URL).notify(PAYLOAD) == "ok"
    assert [c.response.status_code for c in slack.calls] == [500, 200]
    assert len(slept) == 1


def test_it_honours_retry_after_on_429(slack, slept):
    slack.post(SLACK_URL, status=429, body="rate_limited", headers={"Retry-After": "7"})
    slack.post(SLACK_URL, body="ok")
    Slack(SLACK_URL).notify(PAYLOAD)
    assert slept == [7.0]
    assert len(slack.calls) == 2


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "invalid_payload"),
        (403, "invalid_token"),
        (403, "action_prohibited"),
        (404, "channel_not_found"),
        (404, "no_service"),
        (410, "channel_is_archived"),
        (400, "posting_to_general_channel_denied"),
    ],
)
def test_it_stops_at_permanent_errors(slack, slept, status, code):
    slack.post(SLACK_URL, status=status, body=code)
    with pytest.raises(TransportError) as error:
        Slack(SLACK_URL).notify(PAYLOAD)
    assert error.value.permanent
    assert code in str(error.value)
    assert urlsplit(SLACK_URL).path not in str(error.value)  # the webhook's path is its secret
    assert len(slack.calls) == 1
    assert slept == []


def test_it_gives_up_on_persistent_5xx_as_temporary(slack, slept):
    for _ in range(4):
        slack.post(SLACK_URL, status=503, body="")
    with pytest.raises(TransportError) as error:
        Slack(SLACK_URL).notify(PAYLOAD)
    assert not error.value.permanent
    assert len(slack.calls) == 4
