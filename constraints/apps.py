from django.apps import AppConfig


class ConstraintsConfig(AppConfig):
    name = "constraints"
    verbose_name = "Constraints"
