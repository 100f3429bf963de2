from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConstraintsConfig(AppConfig):
    name = "constraints"
    verbose_name = "Constraints"

    def ready(self) -> None:
        import constraints.schedules  # noqa: F401  (connects its receivers)
        from constraints import checks  # noqa: F401  (connects signal receivers)
        from constraints.alerts import receivers  # noqa: F401  (connects signal receivers)

        post_migrate.connect(_ensure_schedules, sender=self)


def _ensure_schedules(**kwargs) -> None:
    from constraints.schedules import ensure_schedules

    ensure_schedules()
