"""System checks for the configuration the pulls depend on: the task queue, the time zone and
the pinned platform API versions."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from sources import versions


@register()
def check_task_queue(app_configs=None, **kwargs) -> list[Error]:
    """django-q2 hands a task out again once `retry` seconds pass without an acknowledgement;
    if that is not longer than `timeout`, a slow pull runs twice at once."""
    cluster = getattr(settings, "Q_CLUSTER", {})
    timeout, retry = cluster.get("timeout"), cluster.get("retry")
    if timeout is None or retry is None or retry > timeout:
        return []
    return [
        Error(
            f"Q_CLUSTER retry ({retry}s) must be longer than its timeout ({timeout}s).",
            hint="Set Q_RETRY above Q_TIMEOUT, e.g. Q_TIMEOUT=1800 and Q_RETRY=2400.",
            id="sources.E001",
        )
    ]


@register()
def check_business_timezone(app_configs=None, **kwargs) -> list[Error]:
    """Every daily window is a day in BUSINESS_TIMEZONE, so it must be a real zone."""
    name = getattr(settings, "BUSINESS_TIMEZONE", "UTC")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return [
            Error(
                f"BUSINESS_TIMEZONE {name!r} is not a time zone.",
                hint="Use an IANA name such as Europe/Paris or America/New_York.",
                id="sources.E002",
            )
        ]
    return []


@register()
def check_api_versions(app_configs=None, **kwargs) -> list[CheckMessage]:
    """A pinned platform API version warns from 60 days before its sunset, errors after it
    (sources/versions.py holds the dates and where they come from)."""
    kinds = {"warning": (Warning, "sources.W003"), "error": (Error, "sources.E003")}
    messages: list[CheckMessage] = []
    for finding in versions.check_all():
        if finding.level in kinds:
            kind, check_id = kinds[finding.level]
            setting = versions.SETTING[finding.platform]
            hint = f"Set {setting}; see the README, 'Upgrading API versions'."
            messages.append(kind(finding.message, hint=hint, id=check_id))
    return messages
