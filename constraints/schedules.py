"""Every recurring django-q2 task, declared once and created idempotently after `migrate`."""

from django_q.models import Schedule

SCHEDULES: dict[str, dict] = {
    "worker heartbeat": {
        "func": "constraints.tasks.beat",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
    },
}


def ensure_schedules(**kwargs) -> None:
    """Create or update each declared schedule by name; never duplicates (post_migrate hook)."""
    for name, fields in SCHEDULES.items():
        Schedule.objects.update_or_create(name=name, defaults=fields)
