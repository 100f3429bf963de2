"""Django's test client, reading a streamed page whole as a browser does."""

from django.http import HttpResponse
from django.test import Client
from django.test.client import ClientHandler


class WholePageHandler(ClientHandler):
    """Reads a streamed page to its end before the request returns, as a browser does: the
    test sees all of it as `content`, its templates with their context, and its queries."""

    def __call__(self, environ):
        response = super().__call__(environ)
        if not response.streaming:
            return response
        whole = HttpResponse(b"".join(response.streaming_content), status=response.status_code)
        whole.headers, whole.cookies = response.headers, response.cookies
        whole.wsgi_request = response.wsgi_request
        return whole


class WholePageClient(Client):
    def __init__(self, enforce_csrf_checks: bool = False, **defaults):
        super().__init__(enforce_csrf_checks, **defaults)
        self.handler = WholePageHandler(enforce_csrf_checks)
