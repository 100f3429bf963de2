"""A page sent in two chunks: its head at once, its body once the body's work is done.

The browser fetches the CSS and the scripts the head names, and runs them, while the server
computes the body. What the middleware must see before the first byte is settled here, when
the response is made: the CSRF cookie (forms in the body carry its token) and the messages
(read now, or the middleware would keep them for the next page). An error while the body is
made comes after the status line: it is logged like any server error and the page ends with
a message saying so, never cut off without a word.
"""

import logging
from collections.abc import Callable, Iterator

from django.contrib import messages
from django.core.signals import got_request_exception
from django.http import HttpRequest, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string

UNFINISHED = "constraints/_unfinished.html"
logger = logging.getLogger("django.request")  # where Django logs a view's uncaught error


def streamed_page(
    request: HttpRequest, *, head: str, body: Callable[[], str]
) -> StreamingHttpResponse:
    """`head` (HTML) sent first, then what `body()` returns, or the end of an error page."""
    get_token(request)
    list(messages.get_messages(request))
    return StreamingHttpResponse(chunks(request, head=head, body=body))


def chunks(request: HttpRequest, *, head: str, body: Callable[[], str]) -> Iterator[str]:
    yield head
    try:
        rest = body()
    except Exception:
        logger.exception("Internal Server Error after the head was sent: %s", request.path,
                         extra={"status_code": 500, "request": request})  # fmt: skip
        got_request_exception.send(sender=None, request=request)  # error trackers listen here
        rest = render_to_string(UNFINISHED, request=request)
    yield rest
