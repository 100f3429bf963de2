"""Every schedule decisionhub runs, declared here and nowhere else. `ensure_schedules()` makes
django-q2's Schedule rows match, idempotently (run by `migrate` and whenever the admin edits
the sync schedule)."""

import datetime as dt

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django_q.models import Schedule

from sources.days import business_tz
from sources.models import SyncSchedule

DAILY_CHAIN = "decisionhub: daily chain (pull, evaluate, alerts)"
HEARTBEAT = "decisionhub: worker heartbeat"
# Fixed-interval schedules, by name; the daily chain and the hourly watch are created below.
SCHEDULES: dict[str, dict] = {
    HEARTBEAT: {"func": "constraints.tasks.beat", "schedule_type": Schedule.MINUTES, "minutes": 1},
}
HOURLY_WATCH = "decisionhub: hourly watch (abandoned runs, missed days, stale sources)"


def next_local_time(time_of_day: dt.time, *, now: dt.datetime | None = None) -> dt.datetime:
    """The next moment (strictly after now) the business zone's clock shows time_of_day."""
    now = (now or timezone.now()).astimezone(business_tz())
    candidate = dt.datetime.combine(now.date(), time_of_day, tzinfo=business_tz())
    if candidate <= now:
        candidate = dt.datetime.combine(
            now.date() + dt.timedelta(days=1), time_of_day, tzinfo=business_tz()
        )
    return candidate.astimezone(dt.UTC)


def ensure_schedules() -> list[Schedule]:
    """Create or update the schedules; never duplicates them."""
    daily, _ = Schedule.objects.update_or_create(
        name=DAILY_CHAIN,
        defaults={
            "func": "constraints.tasks.daily_chain",
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
            "next_run": next_local_time(SyncSchedule.current().time_of_day),
        },
    )
    hourly, created = Schedule.objects.get_or_create(
        name=HOURLY_WATCH,
        defaults={
            "func": "sources.tasks.reconcile_sources",
            "schedule_type": Schedule.HOURLY,
            "repeats": -1,
            "next_run": timezone.now() + dt.timedelta(minutes=5),
        },
    )
    fixed = [
        Schedule.objects.update_or_create(name=name, defaults=fields)[0]
        for name, fields in SCHEDULES.items()
    ]
    return [daily, hourly, *fixed]


@receiver(post_save, sender=SyncSchedule)
def _schedule_changed(sender, **kwargs) -> None:
    ensure_schedules()
