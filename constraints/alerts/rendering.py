"""Messages as Slack Block Kit plus a plain-text twin for email and Slack's fallback text.

Every payload is a dict: subject, text (plain), blocks (Block Kit). It is stored on the
Delivery before sending, so a retry sends exactly the same message.
https://api.slack.com/reference/block-kit/blocks
"""

from collections.abc import Sequence

from django.conf import settings

from constraints.models import Alert, Metric

MAX_ALERTS_SHOWN = 10  # keeps a message well under Slack's 50 blocks and 3,000-char sections
MAX_PROPOSALS_SHOWN = 10  # two blocks each: the proposal and its buttons
HEADER_LIMIT = 150  # Slack's limit for a header block's text
SECTION_LIMIT = 2900
# Slack shows the fallback `text` in notifications and truncates it past 40,000 characters;
# cut to this many characters before escaping, so an entity is never cut in two.
FALLBACK_LIMIT = 3000
ICONS = {"critical": ":rotating_light:", "warning": ":warning:", "info": ":information_source:"}


def format_value(value: float, metric: Metric) -> str:
    """A metric value as the page shows it: $1,235, $41.20, 2.35%, 1,234 (Metric.format)."""
    return metric.format(value)


def escape(text: str) -> str:
    """Slack mrkdwn needs &, < and > escaped (https://api.slack.com/reference/surfaces/formatting)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(text: str) -> str:
    """The fallback `text` of a Slack message: Slack reads it as mrkdwn too, so a campaign
    named '<!channel>' or '<https://evil|click>' must be escaped like the blocks; cut first."""
    return escape(text[:FALLBACK_LIMIT])


def cut(markdown: str, limit: int) -> str:
    """Escaped mrkdwn cut to `limit` characters without cutting an entity (&amp;) in two."""
    if len(markdown) <= limit:
        return markdown
    kept = markdown[:limit]
    start = kept.rfind("&")
    if start != -1 and ";" not in kept[start:]:
        kept = kept[:start]
    return kept


def header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:HEADER_LIMIT]}}


def section(markdown: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(markdown, SECTION_LIMIT)}}


def context(markdown: str) -> dict:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": cut(markdown, SECTION_LIMIT)}],
    }


def dashboard_link() -> dict:
    url = settings.DASHBOARD_URL
    return context(f"<{url}|Open the dashboard> to acknowledge or snooze.")


def decision_buttons(decision_pk: int) -> dict:
    """Approve and Reject for a proposal (constraints.alerts.interactions reads the click).
    https://api.slack.com/reference/block-kit/block-elements#button"""

    def button(label: str, action_id: str, **extra) -> dict:
        text = {"type": "plain_text", "text": label}
        return {"type": "button", "text": text, "action_id": action_id, "value": str(decision_pk),
                **extra}  # fmt: skip

    return {
        "type": "actions",
        "block_id": f"decision:{decision_pk}",
        "elements": [
            button("Approve", "approve_decision", style="primary"),
            button("Reject", "reject_decision"),
        ],
    }


def alert_subject(alerts: Sequence[Alert], proposals: Sequence[Alert] = ()) -> str:
    waiting = len(proposals)
    if not alerts:
        return proposals[0].title if waiting == 1 else f"{waiting} proposals waiting for approval"
    first = alerts[0].title
    subject = first if len(alerts) == 1 else f"{len(alerts)} alerts: {first}, and more"
    if waiting:
        subject += f"; {waiting} proposal{'s' if waiting > 1 else ''} waiting for approval"
    return subject


def alert_payload(alerts: Sequence[Alert], *, still_firing: Sequence[Alert] = ()) -> dict:
    """One message: a group's alerts, each with what happened and its numbers, then the
    proposals among `alerts` (the day's, riding in this message), each with Approve and
    Reject buttons.

    `still_firing` are alerts of the same group already sent, listed so a changed set of
    targets reads as what it is.
    """
    proposals = [alert for alert in alerts if alert.is_proposal]
    alerts = [alert for alert in alerts if not alert.is_proposal]
    subject = alert_subject(alerts, proposals)
    blocks = [header(subject)]
    lines = [subject, ""]
    for alert in alerts[:MAX_ALERTS_SHOWN]:
        icon = ICONS.get(alert.severity, "")
        title = "" if len(alerts) == 1 else f"*{escape(alert.title)}*\n"  # in the header
        blocks.append(section(f"{icon} {title}{escape(alert.body or alert.title)}"))
        lines += [f"[{alert.severity}] {alert.title}", alert.body, ""]
    _more(len(alerts) - MAX_ALERTS_SHOWN, blocks=blocks, lines=lines)
    if still_firing:
        names = ", ".join(a.title for a in still_firing[:MAX_ALERTS_SHOWN])
        blocks.append(context(f"Still firing: {escape(names)}"))
        lines.append(f"Still firing: {names}")
    _add_proposals(proposals, beside_alerts=bool(alerts), blocks=blocks, lines=lines)
    blocks.append(dashboard_link())
    lines.append(f"Dashboard: {settings.DASHBOARD_URL}")
    return {"subject": subject, "text": "\n".join(lines), "blocks": blocks}


def _add_proposals(
    proposals: Sequence[Alert], *, beside_alerts: bool, blocks: list[dict], lines: list[str]
) -> None:
    """Each proposal with its numbers and its buttons; under a heading beside alerts."""
    if proposals and beside_alerts:
        blocks.append(section("*Waiting for your approval*"))
        lines += ["Waiting for your approval:", ""]
    titled = beside_alerts or len(proposals) > 1  # else its title is the header
    for alert in proposals[:MAX_PROPOSALS_SHOWN]:
        title = f"*{escape(alert.title)}*\n" if titled else ""
        blocks.append(section(f"{title}{escape(alert.body or alert.title)}"))
        blocks.append(decision_buttons(alert.data["proposal"]))
        lines += [alert.title, alert.body, ""]
    _more(len(proposals) - MAX_PROPOSALS_SHOWN, blocks=blocks, lines=lines)


def _more(hidden: int, *, blocks: list[dict], lines: list[str]) -> None:
    if hidden > 0:
        blocks.append(context(f"…and {hidden} more on the dashboard."))
        lines.append(f"…and {hidden} more on the dashboard.")


def test_payload(*, by: str, when: str) -> dict:
    """The alert policy's "send a test message": proves the channel works, asks nothing."""
    subject = "decisionhub test message"
    text = f"If you can read this, decisionhub's alerts reach this channel. Sent by {by}, {when}."
    return {"subject": subject, "text": f"{text}\nDashboard: {settings.DASHBOARD_URL}",
            "blocks": [header(subject), section(escape(text)), dashboard_link()]}  # fmt: skip


def digest_payload(
    *,
    title: str,
    trend: Sequence[str],
    actions: Sequence[str],
    held: Sequence[Alert],
    resolved: Sequence[Alert],
    still_open: int,
) -> dict:
    """The weekly digest: the constraint's trend, actions taken, alerts held back or resolved."""
    parts = [
        ("The constraint this week", list(trend) or ["No active constraint."]),
        ("Actions taken", list(actions) or ["No automated action was applied."]),
        ("Held back by the weekly budget", [_alert_line(a) for a in held] or ["Nothing."]),
        ("Resolved", [_alert_line(a) for a in resolved] or ["Nothing."]),
    ]
    blocks, lines = [header(title)], [title, ""]
    for heading, items in parts:
        shown = items[: MAX_ALERTS_SHOWN * 2]
        more = len(items) - len(shown)
        tail = [f"…and {more} more"] if more > 0 else []
        blocks.append(section(f"*{heading}*\n" + "\n".join(f"• {escape(i)}" for i in shown + tail)))
        lines += [heading, *[f"- {i}" for i in shown + tail], ""]
    blocks.append(context(f"{still_open} alert(s) still open."))
    blocks.append(dashboard_link())
    lines += [f"{still_open} alert(s) still open.", f"Dashboard: {settings.DASHBOARD_URL}"]
    return {"subject": title, "text": "\n".join(lines), "blocks": blocks}


def _alert_line(alert: Alert) -> str:
    return f"[{alert.severity}] {alert.title}"
