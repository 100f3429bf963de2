from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConstraintsConfig(AppConfig):
    name = "constraints"
    verbose_name = "Constraints"

    def ready(self) -> None:
        from constraints.schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self)
