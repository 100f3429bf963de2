"""What broke 7: Slack's fallback `text` carried campaign names unescaped, so `<!channel>` or
`<https://evil|click>` reached people's notifications; escaped text was cut inside an entity."""

import json

from constraints.alerting import raise_alert
from constraints.alerts.rendering import SECTION_LIMIT, alert_payload, cut, slack_text
from constraints.alerts.transports import Slack
from tests.conftest import SLACK_URL

HOSTILE = "Campaign <!channel> <https://evil.example|click> & co"


def test_the_fallback_text_is_escaped_like_the_blocks(slack, db):
    slack.post(SLACK_URL, body="ok")
    alert = raise_alert(kind="rule", fingerprint="rule:9", title=HOSTILE, body=HOSTILE)
    Slack(SLACK_URL).notify(alert_payload([alert]))
    sent = json.loads(slack.calls[0].request.body)
    assert "<!channel>" not in sent["text"] and "<https://evil" not in sent["text"]
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; co" in sent["text"]
    assert "&lt;!channel&gt;" in sent["blocks"][1]["text"]["text"]


def test_the_fallback_text_is_cut_before_it_is_escaped():
    text = slack_text("&" * 5000)
    assert text == "&amp;" * 3000


def test_a_block_is_never_cut_inside_an_entity():
    markdown = "x" * (SECTION_LIMIT - 2) + "&amp;tail"
    kept = cut(markdown, SECTION_LIMIT)
    assert kept == "x" * (SECTION_LIMIT - 2) and not kept.endswith("&a")


def test_a_section_of_a_long_hostile_body_ends_on_a_whole_entity(db):
    alert = raise_alert(kind="rule", fingerprint="rule:8", title="t", body="<" * 4000)
    section = alert_payload([alert])["blocks"][1]["text"]["text"]
    assert len(section) <= SECTION_LIMIT and section.endswith("&lt;")
