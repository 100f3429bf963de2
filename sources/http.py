"""The one place that talks HTTP to the outside world.

Every outbound call goes through `request()`: a shared `requests.Session`, a timeout on every
call, bounded retries with exponential backoff and full jitter on connection errors, timeouts,
429 and 5xx, honouring `Retry-After`; no retry on other 4xx. Platform modules pass a
`classify` hook to read their own error bodies (e.g. a daily quota that must not be retried).
Logs carry the method, host and path, never query strings, headers or bodies (tokens live there).
Where the path itself is the credential (a Slack incoming webhook, a Slack `response_url`, a
user's webhook), callers pass `secret_path=True` and errors and logs name the host only.
"""

import contextlib
import contextvars
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from django.utils import timezone

log = logging.getLogger(__name__)

TIMEOUT = (5, 60)  # connect, read: seconds
MAX_ATTEMPTS = 4
BASE_DELAY = 1.0
MAX_DELAY = 60.0
RETRY_STATUSES = {429, 500, 502, 503, 504}

_session = requests.Session()
_session.headers["User-Agent"] = "decisionhub/0.1"


class HTTPError(Exception):
    """A call that did not succeed. `permanent` ones must not be retried later either."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        permanent: bool = False,
        response: requests.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.permanent = permanent
        self.response = response


@dataclass
class Verdict:
    """What a classify hook says of a response: retry it (after `delay` seconds if set),
    or fail, permanently or not."""

    retry: bool
    delay: float | None = None
    permanent: bool = False
    message: str = ""


Classify = Callable[[requests.Response], Verdict | None]

# Tests replace this to avoid sleeping.
sleep = time.sleep


@dataclass
class Tally:
    """Requests sent (retries included) while a `counting()` block was open."""

    attempts: int = 0


_tally: contextvars.ContextVar[Tally | None] = contextvars.ContextVar("http_tally", default=None)


@contextlib.contextmanager
def counting() -> Iterator[Tally]:
    """Count every request sent inside the block, so a run can record its attempts."""
    tally = Tally()
    token = _tally.set(tally)
    try:
        yield tally
    finally:
        _tally.reset(token)


def _count() -> None:
    tally = _tally.get()
    if tally is not None:
        tally.attempts += 1


def request(
    method: str,
    url: str,
    *,
    classify: Classify | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    timeout=TIMEOUT,
    secret_path: bool = False,
    **kwargs,
) -> requests.Response:
    """Send one request, retrying what is worth retrying; return a 2xx response or raise."""
    where = _where(method, url, secret_path=secret_path)
    for attempt in range(1, max_attempts + 1):
        _count()
        try:
            response = _session.request(method, url, timeout=timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            if attempt == max_attempts:
                raise HTTPError(f"{where}: {type(exc).__name__} after {attempt} attempts") from exc
            _wait(attempt, None, where, type(exc).__name__)
            continue
        if response.ok:
            return response
        verdict = (classify(response) if classify else None) or default_verdict(response)
        message = verdict.message or f"HTTP {response.status_code}"
        if not verdict.retry or attempt == max_attempts:
            raise HTTPError(
                f"{where}: {message}",
                status=response.status_code,
                permanent=verdict.permanent,
                response=response,
            )
        _wait(attempt, verdict.delay, where, message)
    raise AssertionError("unreachable")


def default_verdict(response: requests.Response) -> Verdict:
    status = response.status_code
    if status in RETRY_STATUSES:
        return Verdict(retry=True, delay=retry_after(response))
    return Verdict(retry=False, permanent=status in (400, 401, 403, 404, 422))


def retry_after(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), if any."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


def backoff(attempt: int) -> float:
    """Full jitter: a random delay up to BASE_DELAY × 2^(attempt-1), capped."""
    return random.uniform(0, min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1)))


def _wait(attempt: int, delay: float | None, where: str, why: str) -> None:
    seconds = min(MAX_DELAY * 5, delay) if delay is not None else backoff(attempt)
    log.info("http retry %s after %s (attempt %d, waiting %.1fs)", where, why, attempt, seconds)
    sleep(seconds)


def _where(method: str, url: str, *, secret_path: bool) -> str:
    parts = urlsplit(url)
    path = "/…" if secret_path else parts.path
    return f"{method.upper()} {parts.netloc}{path}"
