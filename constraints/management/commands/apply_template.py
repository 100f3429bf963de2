from django.core.management.base import BaseCommand, CommandError, CommandParser

from constraints.rules.evaluation import evaluate
from constraints.template_io import (
    TemplateError,
    built_in_names,
    load_template,
    switch_to_template,
)
from sources.days import yesterday


class Command(BaseCommand):
    help = "Create and activate a constraint from a built-in template name or a JSON file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("template", help=f"One of {', '.join(built_in_names())}, or a path")

    def handle(self, *args, template: str, **options) -> None:
        try:
            switched = switch_to_template(data=load_template(template))
        except TemplateError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Active constraint: {switched.constraint.name} (from {template}).")
        self.stdout.write(switched.summary())
        self.stdout.write(f"Evaluated at once: {evaluate(day=yesterday()).summary()}")
