"""django-q2 tasks: thin, they load and call. Schedules are declared in constraints.schedules."""

from constraints.models import Heartbeat

WORKER = "worker"


def beat() -> None:
    """Stamp the worker heartbeat that /healthz reads."""
    Heartbeat.objects.stamp(WORKER)
