from django.db import models
from django.utils import timezone


class HeartbeatQuerySet(models.QuerySet):
    def stamp(self, name: str) -> None:
        """Record that `name` (a worker) was alive just now."""
        self.update_or_create(name=name, defaults={"beat_at": timezone.now()})

    def last_beat(self, name: str) -> "timezone.datetime | None":
        return self.filter(name=name).values_list("beat_at", flat=True).first()


class Heartbeat(models.Model):
    """The last moment a background worker ran the heartbeat task.

    Written by a task the worker runs every minute, so it is the same whether django-q2 uses
    the ORM broker or Redis.
    """

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()

    objects = HeartbeatQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
