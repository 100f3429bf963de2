"""Days in the business time zone: every daily window is one of these."""

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def business_tz() -> ZoneInfo:
    return ZoneInfo(settings.BUSINESS_TIMEZONE)


def today() -> dt.date:
    return timezone.now().astimezone(business_tz()).date()


def yesterday() -> dt.date:
    return today() - dt.timedelta(days=1)


def each_day(since: dt.date, until: dt.date) -> Iterator[dt.date]:
    """Every day from since to until, both included."""
    day = since
    while day <= until:
        yield day
        day += dt.timedelta(days=1)


def local_day(moment: dt.datetime) -> dt.date:
    """The business day an aware datetime falls on."""
    return moment.astimezone(business_tz()).date()
