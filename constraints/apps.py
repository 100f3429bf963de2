from django.apps import AppConfig


class ConstraintsConfig(AppConfig):
    name = "constraints"
    verbose_name = "Constraints"

    def ready(self) -> None:
        from constraints import checks, receivers  # noqa: F401  (connects signal receivers)
