from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sources import webhooks
from sources.days import local_day
from sources.models import Source


@csrf_exempt
@require_POST
def receive_webhook(request: HttpRequest, source_key: str) -> JsonResponse:
    """Verify and store once; the event's day is then pulled through the queue, once for
    all the events of that day that arrive before the pull starts."""
    source = get_object_or_404(Source, key=source_key, kind=Source.Kind.WEBHOOK, enabled=True)
    try:
        if _too_big(request):
            raise webhooks.Refused("the body is larger than 64 KiB", status=400)
        webhooks.verify(
            source=source,
            timestamp=request.headers.get("X-Webhook-Timestamp", ""),
            signature=request.headers.get("X-Webhook-Signature", ""),
            body=request.body,
        )
        event, created = webhooks.store(source=source, body=request.body)
    except webhooks.Refused as refused:
        return JsonResponse({"error": str(refused)}, status=refused.status)
    if created:
        webhooks.queue_pull(source=source, day=local_day(event.occurred_at))
    return JsonResponse({"id": event.event_id, "duplicate": not created})


def _too_big(request: HttpRequest) -> bool:
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    return declared > webhooks.MAX_BODY_BYTES or len(request.body) > webhooks.MAX_BODY_BYTES
