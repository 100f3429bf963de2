"""Throttling of repeated failed logins, by django-axes."""

from axes.backends import AxesStandaloneBackend


class LoginThrottle(AxesStandaloneBackend):
    """django-axes' lockout check, for logins that come from a request.

    Every login form passes the request, so every password typed by a person is throttled.
    A call without a request (code such as the test client's `login()`) has no address to
    throttle; axes would raise for it, we let the next backend decide instead.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
