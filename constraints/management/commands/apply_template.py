from django.core.management.base import BaseCommand, CommandError, CommandParser

from constraints.template_io import TemplateError, apply_template, built_in_names, load_template


class Command(BaseCommand):
    help = "Create and activate a constraint from a built-in template name or a JSON file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("template", help=f"One of {', '.join(built_in_names())}, or a path")

    def handle(self, *args, template: str, **options) -> None:
        try:
            constraint = apply_template(data=load_template(template))
        except TemplateError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Active constraint: {constraint.name} (from {template}).")
