"""Notification channels: one Transport class each, with a single verb, `notify`.

A transport sends a rendered message (`Delivery.payload`: subject, text, blocks) once and
returns what the other side answered, or raises TransportError saying whether trying again
could help. HTTP goes through `sources.http`, which retries 429 and 5xx itself.
"""

from django.conf import settings
from django.core.mail import send_mail

from constraints.alerts.rendering import slack_text
from sources import http

# Slack answers a failed webhook post with a plain-text error code and 400/403/404/410:
# invalid_payload, invalid_token, action_prohibited, channel_not_found, no_service,
# channel_is_archived, posting_to_general_channel_denied, team_disabled, …
# https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks
SLACK_PERMANENT_STATUSES = {400, 401, 403, 404, 410}


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport:
    name: str

    def notify(self, payload: dict) -> str:
        """Send the message once; return the channel's answer or raise TransportError."""
        raise NotImplementedError


def classify_slack(response) -> http.Verdict | None:
    """Read Slack's plain-text error codes; leave 429 and 5xx to the default retries."""
    if response.status_code in SLACK_PERMANENT_STATUSES:
        code = response.text.strip()[:200] or f"HTTP {response.status_code}"
        return http.Verdict(retry=False, permanent=True, message=f"Slack said {code}")
    return None


class Slack(Transport):
    """A Slack incoming webhook (https://api.slack.com/messaging/webhooks)."""

    name = "slack"

    def __init__(self, webhook_url: str) -> None:
        self.webhook_url = webhook_url

    def notify(self, payload: dict) -> str:
        body = {"text": slack_text(payload["text"]), "blocks": payload.get("blocks", [])}
        try:
            response = http.request(
                "POST", self.webhook_url, json=body, classify=classify_slack, secret_path=True
            )
        except http.HTTPError as exc:
            raise TransportError(str(exc), permanent=exc.permanent) from exc
        return response.text[:500]


class Email(Transport):
    """Django's configured email backend (EMAIL_URL)."""

    name = "email"

    def __init__(self, recipients: list[str]) -> None:
        self.recipients = recipients

    def notify(self, payload: dict) -> str:
        subject = payload.get("subject") or payload["text"][:120]
        try:
            sent = send_mail(
                subject=f"[decisionhub] {subject}",
                message=payload.get("email_body") or payload["text"],
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=self.recipients,
            )
        except (OSError, ValueError) as exc:  # smtplib errors are OSErrors
            raise TransportError(f"email failed: {exc}") from exc
        if not sent:
            raise TransportError("the email backend accepted no message")
        return f"sent to {', '.join(self.recipients)}"
