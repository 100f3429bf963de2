"""POST /slack/interactions/: Slack's Request URL for the Approve and Reject buttons.

Thin: verify the signature, record and claim (constraints.alerts.interactions), queue the
rest, answer 200 at once (Slack shows an error after 3 seconds)."""

import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from constraints.alerts import interactions

log = logging.getLogger(__name__)


@csrf_exempt  # Slack signs the request instead; see interactions.verify
@require_POST
def slack_interactions(request: HttpRequest) -> HttpResponse:
    body = request.body  # the raw bytes Slack signed, read before the form is parsed
    signature = request.headers.get("X-Slack-Signature", "")
    try:
        interactions.verify(
            secret=settings.SLACK_SIGNING_SECRET,
            timestamp=request.headers.get("X-Slack-Request-Timestamp", ""),
            signature=signature,
            body=body,
        )
        interaction = interactions.receive(payload=_payload(request), signature=signature)
    except interactions.Refused as exc:
        log.warning("slack interaction refused: %s", exc)
        return HttpResponse(status=exc.status)
    async_task("constraints.tasks.finish_slack_interaction", interaction.pk)
    return HttpResponse(status=200)


def _payload(request: HttpRequest) -> dict:
    try:
        payload = json.loads(request.POST.get("payload", ""))
    except ValueError:
        raise interactions.Refused("the body has no JSON `payload` field") from None
    if not isinstance(payload, dict):
        raise interactions.Refused("the payload is not a JSON object")
    return payload
